/* LD_PRELOAD shim for tests/faults/inputs.sh: a file truncated while a tool reads it, deterministically and
 * without a hook in the tools. It wraps mmap (elfsieve's tools map their inputs) and fread (GNU binutils read
 * through stdio): the first read-only mapping, or the first fread, of the file named by TRUNCATE_SHIM_FILE (same
 * device and inode) is done as asked, then the file is truncated to TRUNCATE_SHIM_SIZE bytes (default 0), so the
 * tool's next accesses past the new end fail (or fault) exactly as when another process truncates the file. Only
 * the first access is affected (or the one after the first TRUNCATE_SHIM_SKIP accesses); the shim writes "truncate_shim: truncated" to stderr when it acts (so a scenario
 * can tell that it ran). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef void* (*mmap_fn)(void*, size_t, int, int, int, off_t);

static int done;
static long seen;

/* Truncates the target once, if `fd` is the target file. */
static void truncate_if_target(int fd) {
  const char* path = getenv("TRUNCATE_SHIM_FILE");
  if (done || fd < 0 || path == NULL) return;
  struct stat opened, target;
  if (fstat(fd, &opened) != 0 || stat(path, &target) != 0) return;
  if (opened.st_dev != target.st_dev || opened.st_ino != target.st_ino) return;
  const char* skip = getenv("TRUNCATE_SHIM_SKIP");
  if (skip != NULL && seen++ < strtol(skip, NULL, 10)) return;
  done = 1;
  const char* size = getenv("TRUNCATE_SHIM_SIZE");
  if (truncate(path, size != NULL ? (off_t)strtoll(size, NULL, 10) : 0) == 0) {
    static const char message[] = "truncate_shim: truncated\n";
    (void)!write(2, message, sizeof message - 1);
  }
}

static void* shim_mmap(const char* name, void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  mmap_fn real = (mmap_fn)dlsym(RTLD_NEXT, name);
  void* p = real(addr, length, prot, flags, fd, offset);
  if (p != MAP_FAILED && (prot & PROT_READ) != 0) truncate_if_target(fd);
  return p;
}

void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return shim_mmap("mmap", addr, length, prot, flags, fd, offset);
}

void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
  return shim_mmap("mmap64", addr, length, prot, flags, fd, offset);
}

size_t fread(void* buffer, size_t size, size_t count, FILE* stream) {
  typedef size_t (*fread_fn)(void*, size_t, size_t, FILE*);
  fread_fn real = (fread_fn)dlsym(RTLD_NEXT, "fread");
  const size_t n = real(buffer, size, count, stream);
  if (n > 0) truncate_if_target(fileno(stream));
  return n;
}
