/*
 * config.h
 *	  The collector's settings: built-in defaults, then the config file,
 *	  then command-line flags.  The file format is described in config.c
 *	  and in the README ("Config file").
 */
#ifndef COLLECTOR_CONFIG_H
#define COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

/* The Go /debug/pprof profiles a scrape target serves. */
typedef enum ProfileKind
{
	PROFILE_CPU,
	PROFILE_ALLOCS,
	PROFILE_MUTEX,
	PROFILE_BLOCK,
	PROFILE_GOROUTINE,
	PROFILE_KIND_COUNT
} ProfileKind;

/* One [scrape] section: a Go service to pull profiles from. */
typedef struct ScrapeTarget
{
	char	   *url;			/* base URL, e.g. http://127.0.0.1:6060 */
	char	   *path_prefix;	/* default /debug/pprof */
	char	   *service;
	char	   *labels_json;	/* the target's labels as a JSON object */
	uint64_t	interval_ms;	/* default 15 s */
	uint64_t	timeout_ms;		/* 0: interval + 5 s for CPU, interval for the rest */
	bool		enabled[PROFILE_KIND_COUNT];
	int			line;			/* where the section starts, for messages */
} ScrapeTarget;

/* Every setting of the collector. */
typedef struct Config
{
	char	   *config_path;
	char	   *listen;			/* host:port, [v6]:port or :port */
	char	   *dsn;			/* libpq connection string; no password here */
	char	   *table;			/* target table of pprof_ingest */
	char	   *spool_dir;
	uint64_t	spool_max_bytes;
	uint64_t	max_body_bytes; /* a request body; 413 above */
	uint64_t	max_profile_bytes;	/* one decompressed profile; 422 above */
	uint64_t	max_buffered_bytes; /* bodies held in memory at once; 429 above */
	int			max_connections;
	int			max_inflight;	/* requests being received or stored; 429 above */
	uint64_t	request_timeout_ms; /* from the first byte of a request to its body's end */
	uint64_t	idle_timeout_ms;	/* a connection with nothing to read or write */
	uint64_t	shutdown_timeout_ms;
	int			http_threads;
	int			workers;		/* threads that parse and validate bodies */
	int			db_connections; /* writer threads, one connection each */
	int			batch_max_profiles;
	uint64_t	batch_max_delay_ms;
	uint64_t	statement_timeout_ms;
	uint64_t	reconnect_interval_ms;
	int			replay_max_per_second;	/* 0: as fast as PostgreSQL takes them */
	bool		tenants;		/* X-Scope-OrgID is required and fills tenant */
	char	   *basic_auth_user;
	char	   *basic_auth_password;
	char	   *bearer_token;
	char	  **ignore_labels;	/* sample labels that never split rows */
	int			n_ignore_labels;
	LogLevel	log_level;
	ScrapeTarget *targets;
	int			n_targets;
} Config;

/* The built-in defaults. */
extern void config_defaults(Config *cfg);

/*
 * Read the config file at path into cfg (on top of what cfg holds).  On
 * failure returns false with a message in *error (to free).
 */
extern bool config_load_file(Config *cfg, const char *path, char **error);

/*
 * Apply the command line (argv[1..]).  Returns 0 to go on, 1 when the
 * program should exit successfully (--help, --version), -1 on error.
 * *check_only is set by --check-config.
 */
extern int	config_apply_args(Config *cfg, int argc, char **argv, bool *check_only, char **error);

/* Check the settings fit together; false with *error on failure. */
extern bool config_validate(const Config *cfg, char **error);

/* Read only the [scrape] sections of path (for SIGHUP). */
extern bool config_load_targets(const char *path, ScrapeTarget **targets, int *n_targets,
								char **error);

/* Release a target list. */
extern void config_free_targets(ScrapeTarget *targets, int n_targets);

/* The name of a profile kind: cpu, allocs, mutex, block, goroutine. */
extern const char *profile_kind_name(ProfileKind kind);

/* The connection string with any password replaced, for logs. */
extern char *config_dsn_for_log(const char *dsn);

#endif							/* COLLECTOR_CONFIG_H */
