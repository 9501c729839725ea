/*
 * auth.c
 *	  Basic and Bearer credentials, compared in constant time.
 *
 * Every configured credential is compared whatever the outcome of the
 * others, and each comparison's time depends only on the expected value's
 * length, so timing tells a client nothing about how close it came.
 */
#include "auth.h"
#include "collector.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* True when the settings ask for credentials. */
bool
auth_enabled(void)
{
	return collector_config->basic_auth_user != NULL || collector_config->bearer_token != NULL;
}

/* The credentials after "Basic " or "Bearer " (case-insensitive), or NULL. */
static const char *
after_scheme(const char *header, const char *scheme)
{
	size_t		n = strlen(scheme);

	if (strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
		return NULL;
	header += n;
	while (*header == ' ')
		header++;
	return header;
}

/* Check user:password from a Basic header against the settings. */
static bool
basic_matches(const char *encoded)
{
	const Config *cfg = collector_config;
	size_t		len;
	uint8_t    *decoded = base64_decode(encoded, strlen(encoded), &len);
	const char *colon;
	bool		user_ok,
				password_ok;

	if (decoded == NULL)
		return false;
	colon = memchr(decoded, ':', len);
	if (colon == NULL)
	{
		free(decoded);
		return false;
	}
	user_ok = constant_time_equal(decoded, (size_t) ((const uint8_t *) colon - decoded),
								  cfg->basic_auth_user, strlen(cfg->basic_auth_user));
	password_ok = constant_time_equal(colon + 1, len - (size_t) ((const uint8_t *) colon - decoded) - 1,
									  cfg->basic_auth_password, strlen(cfg->basic_auth_password));
	free(decoded);
	return user_ok & password_ok;
}

/* True when the Authorization header value (NULL if absent) is accepted. */
bool
auth_check(const char *authorization)
{
	const Config *cfg = collector_config;
	const char *credentials;

	if (!auth_enabled())
		return true;
	if (authorization == NULL)
		return false;
	if (cfg->basic_auth_user && (credentials = after_scheme(authorization, "Basic")) != NULL)
		return basic_matches(credentials);
	if (cfg->bearer_token && (credentials = after_scheme(authorization, "Bearer")) != NULL)
		return constant_time_equal(credentials, strlen(credentials),
								   cfg->bearer_token, strlen(cfg->bearer_token));
	return false;
}
