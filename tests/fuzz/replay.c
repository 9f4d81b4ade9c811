/*
 * Standalone replay driver: runs LLVMFuzzerTestOneInput over every
 * regular file in the directories (or the files) named on the command
 * line, so that CI replays the corpora without libFuzzer. A crash or an
 * abort() in the target fails the run; so does finding no input at all.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t cap = 0, len = 0;

  if (f == NULL) {
    perror(path);
    return -1;
  }
  for (;;) {
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap ? cap * 2 : 4096);

      if (nb == NULL) {
        fclose(f);
        free(buf);
        return -1;
      }
      buf = nb;
      cap = cap ? cap * 2 : 4096;
    }
    size_t got = fread(buf + len, 1, cap - len, f);

    len += got;
    if (got == 0)
      break;
  }
  fclose(f);
  /* Like libFuzzer: an exact-size heap copy, so ASan sees overreads. */
  {
    uint8_t *exact = malloc(len ? len : 1);

    if (exact == NULL) {
      free(buf);
      return -1;
    }
    if (len > 0)
      memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
  }
  return 0;
}

int main(int argc, char **argv)
{
  int ran = 0, errors = 0;

  for (int i = 1; i < argc; i++) {
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      errors++;
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      errors += run_file(argv[i]) != 0;
      ran++;
      continue;
    }
    if ((d = opendir(argv[i])) == NULL) {
      perror(argv[i]);
      errors++;
      continue;
    }
    while ((e = readdir(d)) != NULL) {
      char path[4096];

      snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
      if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        continue;
      errors += run_file(path) != 0;
      ran++;
    }
    closedir(d);
  }
  printf("replayed %d inputs, %d unreadable\n", ran, errors);
  return ran == 0 || errors > 0 ? 1 : 0;
}
