# Parley: `make run` starts the daemon on ./data, `make test` runs the test suite.
SWIFT ?= swift
SHELL := /bin/bash
# A crash in the test process prints its message and the crashed thread's frames, not every
# register and image: CI keeps only the tail of the output.
TEST_BACKTRACE ?= enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none

.PHONY: setup build test run clean check-sanitizers bench format

# The daemon on ./data with a demo directory and the carrier simulator, and the agent desktop on
# http://127.0.0.1:8080/ (demo sign-ins printed below); Ctrl-C stops both.
run: setup
	$(SWIFT) build -c release --product parleyd
	$(SWIFT) build -c release --product parley-web
	$(SWIFT) build -c release --product parley
	@tools/run-demo

setup:
	@tools/setup

build: setup
	$(SWIFT) build

# One debug build (tests and executables together), then the whole suite, then 50 daemon kills,
# 40 power-cut crash states and 100 damaged files (the short modes; --long for the full runs), and
# the agent desktop in headless Chromium.
# The suite's output also goes to .build/test-output.log; on failure tools/test-summary repeats
# the failures, a crash and the tests that were running, where the tail of the output shows them.
test: setup
	$(SWIFT) build --build-tests
	set -o pipefail; SWIFT_BACKTRACE=$(TEST_BACKTRACE) $(SWIFT) test --skip-build 2>&1 | tee .build/test-output.log \
		|| { tools/test-summary .build/test-output.log; exit 1; }
	PARLEY_CRASH_TEST_NO_BUILD=1 tools/crash-test
	PARLEY_CRASH_TEST_NO_BUILD=1 tools/power-cut
	PARLEY_CRASH_TEST_NO_BUILD=1 tools/damage
	tools/browser-test

# The suite under ThreadSanitizer and AddressSanitizer (separate build folders; slow; the
# protocol fuzz test sends 20 000 lines instead of 100 000 there).
check-sanitizers: setup
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	PARLEY_SANITIZER=thread PARLEY_FUZZ_LINES=20000 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	# Leak reports are off: the only leaks LeakSanitizer finds are test-runner and test-global allocations.
	ASAN_OPTIONS=detect_leaks=0 PARLEY_SANITIZER=address PARLEY_FUZZ_LINES=20000 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

# Parley against Redis Streams and raw LMDB on this machine (release build); e.g. BENCH_ARGS=--quick.
bench: setup
	tools/bench $(BENCH_ARGS)

# swift-format (shipped with the toolchain) with the repository's .swift-format: 4 spaces,
# 120 columns. FORMAT_PATHS narrows it, e.g. make format FORMAT_PATHS=Sources/ParleyServer.
FORMAT_PATHS ?= Package.swift Sources Tests
format:
	$(SWIFT) format --in-place --recursive --configuration .swift-format $(FORMAT_PATHS)

clean:
	rm -rf .build .build-*
