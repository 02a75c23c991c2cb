// The power-cut shim has no API: it interposes open, write, pwrite, writev, fsync, fdatasync and
// mmap when loaded with LD_PRELOAD (see shim.c).
