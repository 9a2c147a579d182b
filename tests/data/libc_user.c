/* Calls into the C library, so linked outputs carry undefined versioned dynamic symbols (puts@GLIBC_x). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int libc_user(const char *s) {
  char buffer[64];
  strncpy(buffer, s, sizeof buffer - 1);
  buffer[sizeof buffer - 1] = 0;
  puts(buffer);
  return (int)strlen(buffer) + abs(-3) + (getenv("SIEVE") != NULL);
}
