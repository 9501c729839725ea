/*
 * auth.h
 *	  Optional inbound credentials: HTTP Basic (basic_auth_user and
 *	  basic_auth_password) and/or a Bearer token (bearer_token), as the
 *	  Pyroscope SDKs and Alloy send them.  Comparisons take constant time.
 */
#ifndef COLLECTOR_AUTH_H
#define COLLECTOR_AUTH_H

#include <stdbool.h>

/* True when the settings ask for credentials. */
extern bool auth_enabled(void);

/* True when the Authorization header value (NULL if absent) is accepted. */
extern bool auth_check(const char *authorization);

#endif							/* COLLECTOR_AUTH_H */
