// libFuzzer's driver, linked in by `-sanitize=fuzzer`. Declared here so the fuzz build's own
// `main` (SwiftPM names an executable's entry point itself) can hand control to libFuzzer.
// Nothing here is linked in a normal build.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
