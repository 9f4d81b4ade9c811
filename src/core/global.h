/*
 * Internal side of vc_global_init: the implicit first initialisation.
 */
#ifndef VC_CORE_GLOBAL_H
#define VC_CORE_GLOBAL_H

/* Initialise with defaults unless the host already has. 0 or < 0. */
int vc__global_ensure(void);

#endif
