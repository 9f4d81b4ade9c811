/*
 * Run-time twins of the version macros.
 */
#include "common.h"

int vc_version(int *major, int *minor, int *patch)
{
  if (major)
    *major = VC_VERSION_MAJOR;
  if (minor)
    *minor = VC_VERSION_MINOR;
  if (patch)
    *patch = VC_VERSION_PATCH;
  return 0;
}

uint32_t vc_version_number(void)
{
  return VC_VERSION_NUMBER;
}

const char *vc_version_string(void)
{
  return VC_VERSION_STRING;
}

int vc_abi_version(void)
{
  return VC_ABI_VERSION;
}
