/*
 * main.c
 *	  pg_pprof_collector: start-up, signals and the orderly shutdown.
 *
 * Start: settings, file-descriptor limit, spool, a first look at
 * PostgreSQL (a missing table or privilege stops the start; an unreachable
 * server does not: requests are spooled until it answers), then the
 * workers, writers, replay, HTTP server and scrape loops.  The main thread
 * then waits for signals: SIGHUP reloads the scrape targets; SIGTERM and
 * SIGINT stop accepting, let every request in flight finish (stored or
 * spooled) and exit 0.
 */
#include "collector.h"
#include "db.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "replay.h"
#include "request.h"
#include "scrape.h"
#include "spool.h"
#include "store.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const Config *collector_config;
static _Atomic bool stopping;

/* True once SIGTERM or SIGINT arrived. */
bool
collector_stopping(void)
{
	return atomic_load(&stopping);
}

/* Raise RLIMIT_NOFILE so that max_connections idle clients fit; returns the limit. */
static long
raise_fd_limit(Config *cfg)
{
	struct rlimit rl;
	rlim_t		want = (rlim_t) cfg->max_connections + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < want)
	{
		struct rlimit raised = rl;

		raised.rlim_cur = want;
		if (raised.rlim_max < want)
			raised.rlim_max = want;	/* allowed for root; otherwise fall back below */
		if (setrlimit(RLIMIT_NOFILE, &raised) != 0)
		{
			raised.rlim_max = rl.rlim_max;
			raised.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &raised);
		}
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want)
	{
		int			fit = rl.rlim_cur > 512 ? (int) (rl.rlim_cur - 256) : 256;

		log_line(LOG_WARN, "fd_limit", "nofile=%llu max_connections=%d reduced_to=%d",
				 (unsigned long long) rl.rlim_cur, cfg->max_connections, fit);
		cfg->max_connections = fit;
	}
	return (long) rl.rlim_cur;
}

/* A first look at PostgreSQL: false when the target table is unusable. */
static bool
check_database(void)
{
	char	   *error = NULL;
	PGconn	   *conn = db_connect(&error);
	bool		ok = true;

	if (conn == NULL)
	{
		log_line(LOG_ERROR, "postgres_unreachable", "error=%s action=spool_until_reachable", lq(error));
		free(error);
		store_set_db_up(false);
		return true;
	}
	if (!db_check_table(conn, &error))
	{
		log_line(LOG_ERROR, "table_unusable", "error=%s", lq(error));
		free(error);
		ok = false;
	}
	else
		store_set_db_up(true);
	PQfinish(conn);
	return ok;
}

/* SIGHUP: read the [scrape] sections again. */
static void
reload_targets(const Config *cfg)
{
	ScrapeTarget *targets;
	int			n;
	char	   *error = NULL;

	if (cfg->config_path == NULL)
	{
		log_line(LOG_WARN, "reload_skipped", "reason=%s", lq("started without --config"));
		return;
	}
	if (!config_load_targets(cfg->config_path, &targets, &n, &error))
	{
		log_line(LOG_ERROR, "reload_failed", "error=%s action=keep_current_targets", lq(error));
		free(error);
		return;
	}
	/* the scrape thread logs the reload once it applies it */
	scrape_reload(targets, n);
}

/* Sleep for ms milliseconds. */
static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Let every request in flight finish; false if some did not in time. */
static bool
drain(const Config *cfg)
{
	double		deadline = mono_now() + (double) cfg->shutdown_timeout_ms / 1000.0;

	while (metrics_gauge_get(GAUGE_INFLIGHT) > 0 || store_pending() > 0)
	{
		if (mono_now() > deadline)
			return false;
		httpd_sweep();
		sleep_ms(20);
	}
	return true;
}

/* Read the settings, start everything, wait for signals, stop in order. */
int
main(int argc, char **argv)
{
	static Config cfg;
	char	   *error = NULL;
	bool		check_only = false;
	int			rc;
	sigset_t	signals;
	long		nofile;
	char	   *dsn_shown;
	bool		drained;
	const char *stop_signal = "";

	config_defaults(&cfg);
	rc = config_apply_args(&cfg, argc, argv, &check_only, &error);
	if (rc > 0)
		return 0;
	if (rc < 0 || !config_validate(&cfg, &error))
	{
		log_line(LOG_ERROR, "bad_settings", "error=%s", lq(error));
		return 2;
	}
	log_set_level(cfg.log_level);
	if (check_only)
	{
		printf("configuration ok: %d scrape target%s\n", cfg.n_targets, cfg.n_targets == 1 ? "" : "s");
		return 0;
	}

	/* every thread inherits this mask; the main thread takes the signals with sigtimedwait */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	nofile = raise_fd_limit(&cfg);
	collector_config = &cfg;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!spool_open(&error))
	{
		log_line(LOG_ERROR, "spool_unusable", "error=%s", lq(error));
		return 1;
	}
	if (!check_database())
		return 1;
	if (!workers_start(cfg.workers) || !store_start(&error) || !replay_start())
	{
		log_line(LOG_ERROR, "start_failed", "error=%s", lq(error ? error : "cannot start threads"));
		return 1;
	}
	if (!httpd_start(&error))
	{
		log_line(LOG_ERROR, "start_failed", "error=%s", lq(error));
		return 1;
	}
	if (!scrape_start(cfg.targets, cfg.n_targets))
	{
		log_line(LOG_ERROR, "start_failed", "error=%s", lq("cannot start the scrape thread"));
		return 1;
	}
	dsn_shown = config_dsn_for_log(cfg.dsn);
	log_line(LOG_INFO, "start", "version=%s pid=%d listen=%s table=%s dsn=%s spool_dir=%s "
			 "spool_entries=%ld scrape_targets=%d nofile=%ld tenants=%s auth=%s postgres=%s",
			 COLLECTOR_VERSION, (int) getpid(), lq(cfg.listen), lq(cfg.table), lq(dsn_shown),
			 lq(cfg.spool_dir), spool_count(), cfg.n_targets, nofile, cfg.tenants ? "on" : "off",
			 cfg.basic_auth_user && cfg.bearer_token ? "basic,bearer" :
			 cfg.basic_auth_user ? "basic" : cfg.bearer_token ? "bearer" : "off",
			 store_db_up() ? "up" : "unreachable");
	free(dsn_shown);

	for (;;)
	{
		struct timespec tick = {1, 0};
		int			sig = sigtimedwait(&signals, NULL, &tick);

		if (sig == SIGHUP)
			reload_targets(&cfg);
		else if (sig == SIGTERM || sig == SIGINT)
		{
			stop_signal = sig == SIGTERM ? "SIGTERM" : "SIGINT";
			break;
		}
		httpd_sweep();
	}

	atomic_store(&stopping, true);
	httpd_quiesce();
	scrape_stop();
	drained = drain(&cfg);
	if (!drained)
	{
		/* requests still wait on PostgreSQL; their clients get no answer and keep their data */
		log_line(LOG_ERROR, "stop", "signal=%s drained=false pending=%lld shutdown_timeout_ms=%llu",
				 stop_signal, (long long) (metrics_gauge_get(GAUGE_INFLIGHT) + store_pending()),
				 (unsigned long long) cfg.shutdown_timeout_ms);
		return 1;
	}
	workers_stop();
	store_stop();
	replay_stop();
	httpd_stop();
	curl_global_cleanup();
	log_line(LOG_INFO, "stop", "signal=%s drained=true spool_entries=%ld", stop_signal, spool_count());
	return 0;
}
