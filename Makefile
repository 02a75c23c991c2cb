# Parley: `make run` starts the daemon on ./data, `make test` runs the test suite.
SWIFT ?= swift

.PHONY: setup build test run clean

# The daemon on ./data with a demo directory and the carrier simulator; Ctrl-C stops it.
run: setup
	$(SWIFT) build -c release --product parleyd
	$(SWIFT) build -c release --product parley
	@echo "parleyd: socket ./data/parleyd.sock; in another terminal try: .build/release/parley info"
	.build/release/parleyd --data ./data --demo --carrier-sim --sim-reply "Thanks, that works for me!"

setup:
	@tools/setup

build: setup
	$(SWIFT) build

# One debug build (tests and executables together), then the whole suite.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build
