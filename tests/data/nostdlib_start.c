/* Entry point for executables linked with -nostdlib when a cross C library is missing. */
extern int main(int, char **);
void _start(void) {
  static char *argv[] = {0};
  volatile int r = main(0, argv);
  (void)r;
  for (;;) {
  }
}
