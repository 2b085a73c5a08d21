# Shortcuts for the two README commands.
.PHONY: run test demo bench
run:
	./scripts/run.sh
demo:
	./scripts/run.sh --demo
test:
	./scripts/test.sh
bench:
	. scripts/env.sh && cargo bench -p bitaxe-core --bench fleet
