# Shortcuts for the README commands.
.PHONY: run test demo scheduler bench deb
run:
	./scripts/run.sh
demo:
	./scripts/run.sh --demo
scheduler:
	./scripts/scheduler.sh
test:
	./scripts/test.sh
bench:
	. scripts/env.sh && cargo bench -p bitaxe-core --bench fleet
deb:
	./scripts/ui.sh && . scripts/env.sh && cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb
