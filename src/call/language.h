/*
 * Language tags of calls (IVR prompts, recording consent). Internal.
 */
#ifndef VC_CALL_LANGUAGE_H
#define VC_CALL_LANGUAGE_H

/* The longest language tag kept. */
#define VC__LANGUAGE_MAX 35

/* 1 when `s` is a BCP 47 tag in shape (a 2-3 letter language, then
 * subtags of 1-8 letters or digits) of at most VC__LANGUAGE_MAX bytes. */
int vc__language_ok(const char *s);

#endif
