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
	./scripts/ui.sh && cd src-tauri && npx --prefix ../ui tauri build --bundles deb
