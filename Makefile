# Parley: `make run` starts the daemon on ./data, `make test` runs the test suite.
SWIFT ?= swift

.PHONY: setup build test run clean

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
