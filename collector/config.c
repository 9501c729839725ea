/*
 * config.c
 *	  Settings: defaults, the config file and the command line.
 *
 * The config file is plain text, one setting a line:
 *
 *	  # a comment (a line whose first non-blank character is #)
 *	  listen = 127.0.0.1:4040
 *	  dsn = host=/var/run/postgresql dbname=profiles user=collector
 *	  table = profiles
 *
 *	  [scrape]                   # each [scrape] section is one target
 *	  url = http://127.0.0.1:6060
 *	  service = checkout
 *	  labels = env=prod, region=eu
 *	  interval = 15s
 *	  profiles = cpu, allocs, mutex, block, goroutine
 *
 * A value is the rest of the line with the blanks around it removed.
 * Sizes take B, kB, MB, GB (1024-based); durations ms, s, m, h (a bare
 * number is seconds); switches on/off.  Unknown keys are errors, so a typo
 * never goes unnoticed.  Flags override the file.
 */
#include "collector.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The name of a profile kind: cpu, allocs, mutex, block, goroutine. */
const char *
profile_kind_name(ProfileKind kind)
{
	static const char *const names[] = {"cpu", "allocs", "mutex", "block", "goroutine"};

	return kind < PROFILE_KIND_COUNT ? names[kind] : "unknown";
}

/* Split a comma-separated list into trimmed, non-empty items. */
static char **
split_list(const char *text, int *count)
{
	char	   *copy = xstrdup(text);
	char	  **items = NULL;
	int			n = 0;
	char	   *save = NULL;

	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *item = str_trim(tok);

		if (*item == '\0')
			continue;
		items = xrealloc(items, sizeof(char *) * (size_t) (n + 1));
		items[n++] = xstrdup(item);
	}
	free(copy);
	*count = n;
	return items;
}

/* Free a list made by split_list. */
static void
free_list(char **items, int n)
{
	for (int i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

/* The built-in defaults. */
void
config_defaults(Config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = xstrdup("127.0.0.1:4040");
	cfg->dsn = xstrdup("");
	cfg->table = xstrdup("profiles");
	cfg->spool_dir = xstrdup("/var/lib/pg_pprof_collector/spool");
	cfg->spool_max_bytes = 1024ULL * 1024 * 1024;
	cfg->max_body_bytes = 16ULL * 1024 * 1024;
	cfg->max_profile_bytes = 64ULL * 1024 * 1024;
	cfg->max_buffered_bytes = 256ULL * 1024 * 1024;
	cfg->max_connections = 4096;
	cfg->max_inflight = 256;
	cfg->request_timeout_ms = 30000;
	cfg->idle_timeout_ms = 15000;
	cfg->shutdown_timeout_ms = 30000;
	cfg->http_threads = 2;
	cfg->workers = 2;
	cfg->db_connections = 2;
	cfg->batch_max_profiles = 64;
	cfg->batch_max_delay_ms = 200;
	cfg->statement_timeout_ms = 30000;
	cfg->reconnect_interval_ms = 1000;
	cfg->replay_max_per_second = 0;
	cfg->tenants = false;
	cfg->ignore_labels = split_list("span_id, trace_id", &cfg->n_ignore_labels);
	cfg->log_level = LOG_INFO;
}

/* Replace a string setting. */
static void
set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* A label name as Pyroscope allows it: [A-Za-z0-9_.]+. */
static bool
valid_label_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char) *s) && *s != '_' && *s != '.')
			return false;
	return true;
}

/* "k=v, k2=v2" as a JSON object; NULL with *error when malformed. */
static char *
labels_to_json(const char *text, char **error)
{
	int			n;
	char	  **items = split_list(text, &n);
	json_t	   *obj = json_object();
	char	   *out = NULL;

	for (int i = 0; i < n; i++)
	{
		char	   *eq = strchr(items[i], '=');
		char	   *key;
		char	   *value;

		if (eq == NULL)
		{
			*error = xprintf("label \"%s\" is not key=value", items[i]);
			goto done;
		}
		*eq = '\0';
		key = str_trim(items[i]);
		value = str_trim(eq + 1);
		if (!valid_label_name(key) || (key[0] == '_' && key[1] == '_'))
		{
			*error = xprintf("label name \"%s\" is invalid (use [A-Za-z0-9_.], not starting with __)", key);
			goto done;
		}
		if (!utf8_valid(value, strlen(value)))
		{
			*error = xprintf("label %s has a value that is not UTF-8", key);
			goto done;
		}
		json_object_set_new(obj, key, json_string(value));
	}
	out = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
done:
	json_decref(obj);
	free_list(items, n);
	return out;
}

/* Start a new [scrape] target with its defaults. */
static ScrapeTarget *
add_target(ScrapeTarget **targets, int *n, int line)
{
	ScrapeTarget *t;

	*targets = xrealloc(*targets, sizeof(ScrapeTarget) * (size_t) (*n + 1));
	t = &(*targets)[(*n)++];
	memset(t, 0, sizeof(*t));
	t->path_prefix = xstrdup("/debug/pprof");
	t->labels_json = xstrdup("{}");
	t->interval_ms = 15000;
	for (int k = 0; k < PROFILE_KIND_COUNT; k++)
		t->enabled[k] = true;
	t->line = line;
	return t;
}

/* Set one key of a [scrape] section; false with *error if it is not one. */
static bool
set_target_key(ScrapeTarget *t, const char *key, const char *value, char **error)
{
	if (strcmp(key, "url") == 0)
	{
		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
		{
			*error = xprintf("url must start with http:// or https://");
			return false;
		}
		set_string(&t->url, value);
		/* a trailing slash would double in the profile paths */
		while (strlen(t->url) > 8 && t->url[strlen(t->url) - 1] == '/')
			t->url[strlen(t->url) - 1] = '\0';
	}
	else if (strcmp(key, "service") == 0)
		set_string(&t->service, value);
	else if (strcmp(key, "path_prefix") == 0)
		set_string(&t->path_prefix, value);
	else if (strcmp(key, "labels") == 0)
	{
		char	   *json = labels_to_json(value, error);

		if (json == NULL)
			return false;
		free(t->labels_json);
		t->labels_json = json;
	}
	else if (strcmp(key, "interval") == 0)
	{
		if (!parse_duration_ms(value, &t->interval_ms) || t->interval_ms < 2000)
		{
			*error = xprintf("interval must be a duration of at least 2s");
			return false;
		}
	}
	else if (strcmp(key, "timeout") == 0)
	{
		if (!parse_duration_ms(value, &t->timeout_ms) || t->timeout_ms == 0)
		{
			*error = xprintf("timeout must be a positive duration");
			return false;
		}
	}
	else if (strcmp(key, "profiles") == 0)
	{
		int			n;
		char	  **items = split_list(value, &n);

		for (int k = 0; k < PROFILE_KIND_COUNT; k++)
			t->enabled[k] = false;
		for (int i = 0; i < n; i++)
		{
			int			k;

			for (k = 0; k < PROFILE_KIND_COUNT; k++)
				if (strcmp(items[i], profile_kind_name((ProfileKind) k)) == 0)
					break;
			if (k == PROFILE_KIND_COUNT && strcmp(items[i], "none") != 0)
			{
				*error = xprintf("unknown profile \"%s\" (cpu, allocs, mutex, block, goroutine or none)",
								 items[i]);
				free_list(items, n);
				return false;
			}
			if (k < PROFILE_KIND_COUNT)
				t->enabled[k] = true;
		}
		free_list(items, n);
	}
	else
	{
		*error = xprintf("unknown key \"%s\" in a [scrape] section", key);
		return false;
	}
	return true;
}

/* Parse a size setting into *field. */
static bool
set_size(uint64_t *field, const char *key, const char *value, char **error)
{
	if (!parse_size(value, field))
	{
		*error = xprintf("%s must be a size such as 16MB", key);
		return false;
	}
	return true;
}

/* Parse a duration setting into *field. */
static bool
set_duration(uint64_t *field, const char *key, const char *value, char **error)
{
	if (!parse_duration_ms(value, field))
	{
		*error = xprintf("%s must be a duration such as 200ms or 30s", key);
		return false;
	}
	return true;
}

/* Parse a count setting into *field, between lo and hi. */
static bool
set_int(int *field, const char *key, const char *value, int lo, int hi, char **error)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *str_trim(end) != '\0' || v < lo || v > hi)
	{
		*error = xprintf("%s must be a whole number from %d to %d", key, lo, hi);
		return false;
	}
	*field = (int) v;
	return true;
}

/* Set one top-level key; false with *error if the key or value is bad. */
static bool
set_key(Config *cfg, const char *key, const char *value, char **error)
{
	if (strcmp(key, "listen") == 0)
		set_string(&cfg->listen, value);
	else if (strcmp(key, "dsn") == 0)
		set_string(&cfg->dsn, value);
	else if (strcmp(key, "table") == 0)
		set_string(&cfg->table, value);
	else if (strcmp(key, "spool_dir") == 0)
		set_string(&cfg->spool_dir, value);
	else if (strcmp(key, "spool_max_bytes") == 0)
		return set_size(&cfg->spool_max_bytes, key, value, error);
	else if (strcmp(key, "max_body_bytes") == 0)
		return set_size(&cfg->max_body_bytes, key, value, error);
	else if (strcmp(key, "max_profile_bytes") == 0)
		return set_size(&cfg->max_profile_bytes, key, value, error);
	else if (strcmp(key, "max_buffered_bytes") == 0)
		return set_size(&cfg->max_buffered_bytes, key, value, error);
	else if (strcmp(key, "max_connections") == 0)
		return set_int(&cfg->max_connections, key, value, 16, 1000000, error);
	else if (strcmp(key, "max_inflight") == 0)
		return set_int(&cfg->max_inflight, key, value, 1, 100000, error);
	else if (strcmp(key, "request_timeout") == 0)
		return set_duration(&cfg->request_timeout_ms, key, value, error);
	else if (strcmp(key, "idle_timeout") == 0)
		return set_duration(&cfg->idle_timeout_ms, key, value, error);
	else if (strcmp(key, "shutdown_timeout") == 0)
		return set_duration(&cfg->shutdown_timeout_ms, key, value, error);
	else if (strcmp(key, "http_threads") == 0)
		return set_int(&cfg->http_threads, key, value, 1, 64, error);
	else if (strcmp(key, "workers") == 0)
		return set_int(&cfg->workers, key, value, 1, 64, error);
	else if (strcmp(key, "db_connections") == 0)
		return set_int(&cfg->db_connections, key, value, 1, 64, error);
	else if (strcmp(key, "batch_max_profiles") == 0)
		return set_int(&cfg->batch_max_profiles, key, value, 1, 10000, error);
	else if (strcmp(key, "batch_max_delay") == 0)
		return set_duration(&cfg->batch_max_delay_ms, key, value, error);
	else if (strcmp(key, "statement_timeout") == 0)
		return set_duration(&cfg->statement_timeout_ms, key, value, error);
	else if (strcmp(key, "reconnect_interval") == 0)
		return set_duration(&cfg->reconnect_interval_ms, key, value, error);
	else if (strcmp(key, "replay_max_per_second") == 0)
		return set_int(&cfg->replay_max_per_second, key, value, 0, 1000000, error);
	else if (strcmp(key, "tenants") == 0)
	{
		if (!parse_bool(value, &cfg->tenants))
		{
			*error = xprintf("tenants must be on or off");
			return false;
		}
	}
	else if (strcmp(key, "basic_auth_user") == 0)
		set_string(&cfg->basic_auth_user, value);
	else if (strcmp(key, "basic_auth_password") == 0)
		set_string(&cfg->basic_auth_password, value);
	else if (strcmp(key, "bearer_token") == 0)
		set_string(&cfg->bearer_token, value);
	else if (strcmp(key, "ignore_labels") == 0)
	{
		free_list(cfg->ignore_labels, cfg->n_ignore_labels);
		cfg->ignore_labels = split_list(value, &cfg->n_ignore_labels);
	}
	else if (strcmp(key, "log_level") == 0)
	{
		if (!log_parse_level(value, &cfg->log_level))
		{
			*error = xprintf("log_level must be debug, info, warn or error");
			return false;
		}
	}
	else
	{
		*error = xprintf("unknown key \"%s\"", key);
		return false;
	}
	return true;
}

/*
 * Parse the file at path.  With cfg NULL only the [scrape] sections are
 * kept (into targets); top-level keys are then checked for form only.
 */
static bool
parse_file(Config *cfg, const char *path, ScrapeTarget **targets, int *n_targets, char **error)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			lineno = 0;
	ScrapeTarget *current = NULL;
	bool		ok = true;

	if (f == NULL)
	{
		*error = xprintf("cannot read %s: %s", path, strerror(errno));
		return false;
	}
	while (ok && getline(&line, &cap, f) >= 0)
	{
		char	   *text = str_trim(line);
		char	   *eq;
		char	   *key;
		char	   *value;
		char	   *why = NULL;

		lineno++;
		if (*text == '\0' || *text == '#')
			continue;
		if (*text == '[')
		{
			char	   *name = text + 1;
			char	   *close = strchr(name, ']');

			if (close == NULL || *str_trim(close + 1) != '\0')
				why = xprintf("a section header looks like [scrape]");
			else
			{
				*close = '\0';
				if (strcmp(str_trim(name), "scrape") != 0)
					why = xprintf("unknown section [%s] (the only section is [scrape])", name);
				else
					current = add_target(targets, n_targets, lineno);
			}
		}
		else if ((eq = strchr(text, '=')) == NULL)
			why = xprintf("expected key = value");
		else
		{
			*eq = '\0';
			key = str_trim(text);
			value = str_trim(eq + 1);
			if (current)
				set_target_key(current, key, value, &why);
			else if (cfg)
				set_key(cfg, key, value, &why);
		}
		if (why)
		{
			*error = xprintf("%s:%d: %s", path, lineno, why);
			free(why);
			ok = false;
		}
	}
	free(line);
	fclose(f);
	if (ok)
	{
		for (int i = 0; i < *n_targets; i++)
		{
			ScrapeTarget *t = &(*targets)[i];

			if (t->url == NULL || t->service == NULL)
			{
				*error = xprintf("%s:%d: a [scrape] section needs url and service", path, t->line);
				ok = false;
				break;
			}
		}
	}
	return ok;
}

/* Read the config file at path into cfg (on top of what cfg holds). */
bool
config_load_file(Config *cfg, const char *path, char **error)
{
	ScrapeTarget *targets = NULL;
	int			n = 0;

	if (!parse_file(cfg, path, &targets, &n, error))
	{
		config_free_targets(targets, n);
		return false;
	}
	config_free_targets(cfg->targets, cfg->n_targets);
	cfg->targets = targets;
	cfg->n_targets = n;
	set_string(&cfg->config_path, path);
	return true;
}

/* Read only the [scrape] sections of path (for SIGHUP). */
bool
config_load_targets(const char *path, ScrapeTarget **targets, int *n_targets, char **error)
{
	Config		scratch;
	bool		ok;

	/* parse top-level keys into a scratch copy, so their errors show too */
	config_defaults(&scratch);
	*targets = NULL;
	*n_targets = 0;
	ok = parse_file(&scratch, path, targets, n_targets, error);
	if (!ok)
	{
		config_free_targets(*targets, *n_targets);
		*targets = NULL;
		*n_targets = 0;
	}
	free(scratch.listen);
	free(scratch.dsn);
	free(scratch.table);
	free(scratch.spool_dir);
	free(scratch.basic_auth_user);
	free(scratch.basic_auth_password);
	free(scratch.bearer_token);
	free_list(scratch.ignore_labels, scratch.n_ignore_labels);
	return ok;
}

/* Release a target list. */
void
config_free_targets(ScrapeTarget *targets, int n_targets)
{
	for (int i = 0; i < n_targets; i++)
	{
		free(targets[i].url);
		free(targets[i].path_prefix);
		free(targets[i].service);
		free(targets[i].labels_json);
	}
	free(targets);
}

/* True when a connection string carries a password (key=value or URI form). */
static bool
dsn_has_password(const char *dsn)
{
	const char *at;
	const char *scheme_end;

	for (const char *p = dsn; *p; p++)
		if ((p == dsn || isspace((unsigned char) p[-1])) && strncasecmp(p, "password", 8) == 0)
		{
			const char *q = p + 8;

			while (isspace((unsigned char) *q))
				q++;
			if (*q == '=')
				return true;
		}
	scheme_end = strstr(dsn, "://");
	if (scheme_end && (at = strchr(scheme_end + 3, '@')) != NULL)
	{
		const char *colon = memchr(scheme_end + 3, ':', (size_t) (at - scheme_end - 3));

		if (colon)
			return true;
	}
	return strstr(dsn, "password=") != NULL;
}

/* The connection string with any password replaced, for logs. */
char *
config_dsn_for_log(const char *dsn)
{
	if (dsn == NULL || *dsn == '\0')
		return xstrdup("(libpq defaults)");
	if (dsn_has_password(dsn))
		return xstrdup("(a connection string with a password, not shown)");
	return xstrdup(dsn);
}

/* The --help text. */
static void
print_usage(void)
{
	printf("pg_pprof_collector %s: receives Pyroscope pushes and scrapes Go pprof endpoints,\n"
		   "storing every profile in PostgreSQL through pg_pprof's pprof_ingest().\n\n"
		   "Usage: pg_pprof_collector [--config FILE] [options]\n\n"
		   "  --config FILE       read settings from FILE (see the README, \"Config file\")\n"
		   "  --listen ADDR       host:port to serve on (default 127.0.0.1:4040)\n"
		   "  --dsn DSN           libpq connection string, without a password\n"
		   "                      (use PGPASSWORD or a passfile, PGPASSFILE / ~/.pgpass)\n"
		   "  --table NAME        table that pprof_ingest() fills (default profiles)\n"
		   "  --spool-dir DIR     where requests wait while PostgreSQL is unreachable\n"
		   "  --log-level LEVEL   debug, info, warn or error (default info)\n"
		   "  --check-config      check the settings and exit\n"
		   "  --version, --help\n\n"
		   "Signals: SIGTERM or SIGINT drains in-flight requests and exits 0;\n"
		   "SIGHUP reloads the [scrape] targets from the config file.\n",
		   COLLECTOR_VERSION);
}

/* Apply the command line (argv[1..]). */
int
config_apply_args(Config *cfg, int argc, char **argv, bool *check_only, char **error)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"dsn", required_argument, NULL, 'd'},
		{"table", required_argument, NULL, 't'},
		{"spool-dir", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'L'},
		{"check-config", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *listen = NULL,
			   *dsn = NULL,
			   *table = NULL,
			   *spool = NULL,
			   *level = NULL;
	int			opt;

	*check_only = false;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'c':
				config_path = optarg;
				break;
			case 'l':
				listen = optarg;
				break;
			case 'd':
				dsn = optarg;
				break;
			case 't':
				table = optarg;
				break;
			case 's':
				spool = optarg;
				break;
			case 'L':
				level = optarg;
				break;
			case 'C':
				*check_only = true;
				break;
			case 'h':
				print_usage();
				return 1;
			case 'V':
				printf("pg_pprof_collector %s\n", COLLECTOR_VERSION);
				return 1;
			default:
				*error = xprintf("unknown or incomplete option %s (see --help)", argv[optind - 1]);
				return -1;
		}
	}
	if (optind < argc)
	{
		*error = xprintf("unexpected argument %s (see --help)", argv[optind]);
		return -1;
	}
	if (dsn && dsn_has_password(dsn))
	{
		*error = xprintf("--dsn must not carry a password, since the command line is visible to "
						 "every user: use PGPASSWORD, a passfile (PGPASSFILE or ~/.pgpass) or the config file");
		return -1;
	}
	/* the file first, then the flags on top */
	if (config_path && !config_load_file(cfg, config_path, error))
		return -1;
	if (listen)
		set_string(&cfg->listen, listen);
	if (dsn)
		set_string(&cfg->dsn, dsn);
	if (table)
		set_string(&cfg->table, table);
	if (spool)
		set_string(&cfg->spool_dir, spool);
	if (level && !log_parse_level(level, &cfg->log_level))
	{
		*error = xprintf("--log-level must be debug, info, warn or error");
		return -1;
	}
	return 0;
}

/* Check the settings fit together. */
bool
config_validate(const Config *cfg, char **error)
{
	if (cfg->table[0] == '\0')
		*error = xprintf("table must not be empty");
	else if (cfg->spool_dir[0] == '\0')
		*error = xprintf("spool_dir must not be empty: the collector acknowledges only what is "
						 "committed or spooled");
	else if (cfg->max_body_bytes == 0 || cfg->max_profile_bytes == 0)
		*error = xprintf("max_body_bytes and max_profile_bytes must be positive");
	else if (cfg->max_buffered_bytes < cfg->max_body_bytes)
		*error = xprintf("max_buffered_bytes must be at least max_body_bytes");
	else if (cfg->max_body_bytes > 1024ULL * 1024 * 1024 || cfg->max_profile_bytes > 1024ULL * 1024 * 1024)
		*error = xprintf("max_body_bytes and max_profile_bytes are limited to 1GB");
	else if ((cfg->basic_auth_user == NULL) != (cfg->basic_auth_password == NULL))
		*error = xprintf("basic_auth_user and basic_auth_password go together");
	else if (cfg->request_timeout_ms < 100 || cfg->idle_timeout_ms < 100)
		*error = xprintf("request_timeout and idle_timeout must be at least 100ms");
	else
		return true;
	return false;
}
