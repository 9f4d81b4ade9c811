/*
 * Fuzz target for the IVR menu document parser (src/call/ivr_def.c).
 *
 * Input: a menu definition (the bytes up to the first NUL). Beyond what
 * ASan and UBSan catch, it aborts when an invariant breaks: a refusal
 * sets one printable line of the INVALID class with a known code; an
 * accepted menu prints to a normalized document that parses again and
 * prints to itself (normalization is idempotent), every option that goes
 * to a node names an existing node other than its own, and the entry is
 * a node.
 *
 * libFuzzer build (scratch directory, clang): as in mustache_fuzzer.c,
 * with tests/fuzz/ivr_menu_fuzzer.c and -o ivr_menu_fuzzer, then
 *   ./ivr_menu_fuzzer tests/fuzz/corpus/ivr_menu
 */
#include "core/common.h"
#include "core/text.h"
#include "call/ivr_def.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(int rc)
{
  const vc_error *e = vc_error_last();
  size_t n = strlen(e->message);

  if (rc == VC_ENOMEM)
    return;
  if ((rc != VC_EINVALID && rc != VC_ETOOBIG && rc != VC_EENCODING) ||
      e->code != rc || e->klass != VC_ERRCLASS_INVALID || n > 400 ||
      !vc__utf8_valid(e->message, n))
    abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)e->message[i] < 0x20 || e->message[i] == 0x7f)
      abort();
}

static void check_def(const vc__ivr_def *d)
{
  if (d->nnodes == 0 || d->nnodes > VC_IVR_NODES_MAX || d->entry < 0 ||
      (size_t)d->entry >= d->nnodes)
    abort();
  for (size_t i = 0; i < d->nnodes; i++)
    for (int k = 0; k < VC__IVR_NKEYS; k++)
      for (const vc__ivr_act *a = d->nodes[i].options[k]; a; a = a->then)
        if (a->kind == VC__IVR_DO_MENU &&
            (a->node_index < 0 || (size_t)a->node_index >= d->nnodes ||
             a->node_index == (int)i))
          abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1), *once = NULL, *twice = NULL;
  vc__ivr_def *d = NULL, *d2 = NULL;
  int rc;

  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  rc = vc__ivr_def_parse(&d, text);
  if (rc < 0) {
    if (d != NULL)
      abort();
    check_failure(rc);
    goto out;
  }
  check_def(d);
  if (vc__ivr_def_print(&once, d) < 0)
    goto out;
  if (vc__ivr_def_parse(&d2, once) < 0)
    abort();
  check_def(d2);
  if (vc__ivr_def_print(&twice, d2) < 0)
    goto out;
  if (strcmp(once, twice) != 0)
    abort();
out:
  vc__free(once);
  vc__free(twice);
  vc__ivr_def_free(d);
  vc__ivr_def_free(d2);
  free(text);
  return 0;
}
