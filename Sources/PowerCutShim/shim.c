// The power-cut recorder: an LD_PRELOAD library for `tools/power-cut` (never linked into Parley).
//
// For the data files `log.mdb` and `projections.mdb` of the directory named by POWERCUT_DIR, it
// appends to the journal POWERCUT_JOURNAL, before each write reaches the file, the bytes the
// write is about to overwrite, and after each fsync/fdatasync (or a write through an O_DSYNC or
// O_SYNC descriptor) a record saying what that made durable. A crash state is then the file as
// the killed process left it, with any mix of the writes not yet durable undone, page by page.
//
// With POWERCUT_BOOT_ID set it also makes /proc/sys/kernel/random/boot_id read as that value:
// the daemon opened on a crash state must believe the machine rebooted, as after a real power cut.
//
// Journal records, little-endian: magic "PCR1", type (1 byte), file (1 byte: 1 log, 2
// projections), 2 bytes zero, length (4), offset (8), file size before (8), then `length`
// bytes (old contents for a write, zero past the end of the file), then a 4-byte FNV-1a of all
// of the above. Types: 'O' opened (size = current size), 'W' a write about to happen, 'S' the
// file made durable (size = its size), 'P' the pages of [offset, offset+size) made durable,
// 'M' a writable shared map of the file (not modelled: the tool refuses the run).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int journal = -1;
static char directory[PATH_MAX];
static size_t directory_length;
static const char *boot_id;
/// Per descriptor: 0 untracked, else the file number; bit 0x80 set for O_DSYNC/O_SYNC.
static unsigned char tracked[MAX_FDS];
/// Per tracked descriptor opened write-only (LMDB's O_DSYNC meta descriptor): a read-only
/// descriptor of the same file, to read the bytes a write overwrites; 0 when none.
static int reader[MAX_FDS];

static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

static void setup(void) {
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_mmap = dlsym(RTLD_NEXT, "mmap");
    boot_id = getenv("POWERCUT_BOOT_ID");
    const char *dir = getenv("POWERCUT_DIR");
    const char *path = getenv("POWERCUT_JOURNAL");
    if (dir && path && (realpath(dir, directory) || snprintf(directory, sizeof directory, "%s", dir) > 0)) {
        directory_length = strlen(directory);
        journal = real_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
}

static void init(void) { pthread_once(&once, setup); }

static uint32_t fnv(uint32_t hash, const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    for (size_t i = 0; i < count; i++) hash = (hash ^ p[i]) * 16777619u;
    return hash;
}

static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/// Appends one record in a single write(2); a record cut short by the kill fails its checksum.
static void record(char type, unsigned char file, uint64_t offset, uint64_t size, const void *bytes, uint32_t length) {
    unsigned char header[28];
    memcpy(header, "PCR1", 4);
    header[4] = (unsigned char)type;
    header[5] = file;
    header[6] = header[7] = 0;
    put32(header + 8, length);
    put64(header + 12, offset);
    put64(header + 20, size);
    size_t total = sizeof header + length + 4;
    unsigned char *buffer = malloc(total);
    if (!buffer) abort();
    memcpy(buffer, header, sizeof header);
    if (length) memcpy(buffer + sizeof header, bytes, length);
    uint32_t sum = fnv(2166136261u, buffer, sizeof header + length);
    put32(buffer + sizeof header + length, sum);
    size_t done = 0;
    while (done < total) {
        ssize_t n = real_write(journal, buffer + done, total - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) abort();  // a journal that silently misses writes would prove nothing
        done += (size_t)n;
    }
    free(buffer);
}

static uint64_t file_size(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/// Decides whether a newly opened descriptor is one of the data files, and records its opening.
static void opened(int fd, int flags) {
    if (fd < 0 || fd >= MAX_FDS || journal < 0) return;
    tracked[fd] = 0;
    reader[fd] = 0;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return;
    path[n] = 0;
    if ((size_t)n <= directory_length || strncmp(path, directory, directory_length) != 0 || path[directory_length] != '/') return;
    const char *name = path + directory_length + 1;
    unsigned char file = strcmp(name, "log.mdb") == 0 ? 1 : strcmp(name, "projections.mdb") == 0 ? 2 : 0;
    if (!file) return;
    pthread_mutex_lock(&lock);
    tracked[fd] = (unsigned char)(file | ((flags & (O_DSYNC | O_SYNC)) ? 0x80 : 0));
    if ((flags & O_ACCMODE) == O_WRONLY) {
        int companion = real_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        if (companion < 0) abort();  // without it the old bytes of its writes could not be read
        reader[fd] = companion + 1;
    }
    record('O', file, 0, file_size(fd), NULL, 0);
    pthread_mutex_unlock(&lock);
}

/// A descriptor that reads the fake boot id, or -1 when this open is not of the boot id.
static int fake_boot_id(const char *path) {
    if (!boot_id || strcmp(path, "/proc/sys/kernel/random/boot_id") != 0) return -1;
    int fd = (int)syscall(SYS_memfd_create, "boot_id", 0);
    if (fd < 0) return -1;
    size_t length = strlen(boot_id);
    if (real_write(fd, boot_id, length) != (ssize_t)length || real_write(fd, "\n", 1) != 1 || lseek(fd, 0, SEEK_SET) != 0) {
        real_close(fd);
        return -1;
    }
    return fd;
}

static int is_tracked(int fd) { return journal >= 0 && fd >= 0 && fd < MAX_FDS && tracked[fd]; }

/// Records the old contents of [offset, offset+length) before a write there.
static void before_write(int fd, uint64_t offset, size_t length) {
    unsigned char file = tracked[fd] & 0x7f;
    uint64_t size = file_size(fd);
    unsigned char *old = calloc(length ? length : 1, 1);
    if (!old) abort();
    if (offset < size) {
        int source = reader[fd] ? reader[fd] - 1 : fd;
        size_t want = size - offset < length ? (size_t)(size - offset) : length;
        size_t got = 0;
        while (got < want) {
            ssize_t n = pread(source, old + got, want - got, (off_t)(offset + got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) abort();  // zeros recorded as the old bytes would make false crash states
            got += (size_t)n;
        }
    }
    record('W', file, offset, size, old, (uint32_t)length);
    free(old);
}

/// After a write through a synchronous descriptor: its pages are durable.
static void after_write(int fd, uint64_t offset, ssize_t written) {
    if (written > 0 && (tracked[fd] & 0x80)) record('P', tracked[fd] & 0x7f, offset, (uint64_t)written, NULL, 0);
}

/// The mode argument of an open that creates, read in the interposed function itself.
#define MODE_ARGUMENT(mode, flags)                    \
    do {                                              \
        if ((flags) & (O_CREAT | O_TMPFILE)) {        \
            va_list args;                             \
            va_start(args, flags);                    \
            mode = va_arg(args, mode_t);              \
            va_end(args);                             \
        }                                             \
    } while (0)

/// open or openat (dirfd AT_FDCWD for open), recording the data files.
static int open_recorded(int dirfd, const char *path, int flags, mode_t mode) {
    init();
    int fake = fake_boot_id(path);
    if (fake >= 0) return fake;
    int fd = real_openat(dirfd, path, flags, mode);
    opened(fd, flags);
    return fd;
}

int open(const char *path, int flags, ...) {
    mode_t mode = 0;
    MODE_ARGUMENT(mode, flags);
    return open_recorded(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    mode_t mode = 0;
    MODE_ARGUMENT(mode, flags);
    return open_recorded(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    MODE_ARGUMENT(mode, flags);
    return open_recorded(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    MODE_ARGUMENT(mode, flags);
    return open_recorded(dirfd, path, flags, mode);
}

int close(int fd) {
    init();
    if (fd >= 0 && fd < MAX_FDS) {
        tracked[fd] = 0;
        if (reader[fd]) real_close(reader[fd] - 1);
        reader[fd] = 0;
    }
    return real_close(fd);
}

ssize_t pwrite(int fd, const void *bytes, size_t count, off_t offset) {
    init();
    if (!is_tracked(fd)) return real_pwrite(fd, bytes, count, offset);
    pthread_mutex_lock(&lock);
    before_write(fd, (uint64_t)offset, count);
    ssize_t n = real_pwrite(fd, bytes, count, offset);
    after_write(fd, (uint64_t)offset, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwrite64(int fd, const void *bytes, size_t count, off_t offset) { return pwrite(fd, bytes, count, offset); }

ssize_t write(int fd, const void *bytes, size_t count) {
    init();
    if (!is_tracked(fd)) return real_write(fd, bytes, count);
    pthread_mutex_lock(&lock);
    off_t offset = (fcntl(fd, F_GETFL) & O_APPEND) ? (off_t)file_size(fd) : lseek(fd, 0, SEEK_CUR);
    before_write(fd, (uint64_t)offset, count);
    ssize_t n = real_write(fd, bytes, count);
    after_write(fd, (uint64_t)offset, n);
    pthread_mutex_unlock(&lock);
    return n;
}

static void before_vector(int fd, const struct iovec *vector, int count, uint64_t offset) {
    for (int i = 0; i < count; i++) {
        before_write(fd, offset, vector[i].iov_len);
        offset += vector[i].iov_len;
    }
}

ssize_t writev(int fd, const struct iovec *vector, int count) {
    init();
    if (!is_tracked(fd)) return real_writev(fd, vector, count);
    pthread_mutex_lock(&lock);
    off_t offset = (fcntl(fd, F_GETFL) & O_APPEND) ? (off_t)file_size(fd) : lseek(fd, 0, SEEK_CUR);
    before_vector(fd, vector, count, (uint64_t)offset);
    ssize_t n = real_writev(fd, vector, count);
    after_write(fd, (uint64_t)offset, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *vector, int count, off_t offset) {
    init();
    if (!is_tracked(fd)) return real_pwritev(fd, vector, count, offset);
    pthread_mutex_lock(&lock);
    before_vector(fd, vector, count, (uint64_t)offset);
    ssize_t n = real_pwritev(fd, vector, count, offset);
    after_write(fd, (uint64_t)offset, n);
    pthread_mutex_unlock(&lock);
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *vector, int count, off_t offset) { return pwritev(fd, vector, count, offset); }

static int synced(int fd, int result) {
    if (result == 0 && is_tracked(fd)) {
        pthread_mutex_lock(&lock);
        record('S', tracked[fd] & 0x7f, 0, file_size(fd), NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return result;
}

int fsync(int fd) {
    init();
    return synced(fd, real_fsync(fd));
}

int fdatasync(int fd) {
    init();
    return synced(fd, real_fdatasync(fd));
}

void *mmap(void *address, size_t length, int protection, int flags, int fd, off_t offset) {
    init();
    if (is_tracked(fd) && (protection & PROT_WRITE) && (flags & MAP_SHARED)) {
        pthread_mutex_lock(&lock);
        record('M', tracked[fd] & 0x7f, (uint64_t)offset, file_size(fd), NULL, 0);
        pthread_mutex_unlock(&lock);
    }
    return real_mmap(address, length, protection, flags, fd, offset);
}

void *mmap64(void *address, size_t length, int protection, int flags, int fd, off_t offset) {
    return mmap(address, length, protection, flags, fd, offset);
}
