/*
 * loadgen.c
 *	  The upload clients of bench/collector.sh: closed-loop HTTP/1.1 clients
 *	  on libcurl that POST profile files to pg_pprof_collector and time each
 *	  answer.
 *
 * Each client is a thread with one keep-alive connection; it sends the next
 * upload as soon as the previous one is answered, cycling through the files
 * (client i starts at file i).  It is written in C so that the clients take
 * as little of the machine's two cores as they can: the collector and
 * PostgreSQL share those cores with them.  At the end it prints one line:
 *	  {"acked":N,"failed":N,"bytes":N,"seconds":S,"cpu_seconds":C,"p50_ms":X,"p99_ms":Y}
 * where bytes counts the acknowledged bodies and cpu_seconds is the clients'
 * own CPU time (user and system).
 *
 *	  loadgen URL CLIENTS SECONDS FILE...
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct Body
{
	char	   *data;
	long		len;
} Body;

typedef struct Client
{
	int			index;
	long		acked;
	long		failed;
	long		bytes;
	double	   *latencies;		/* milliseconds, one per acknowledged upload */
	long		n_latencies;
	long		cap_latencies;
} Client;

static Body *bodies;
static int	n_bodies;
static const char *target;
static double deadline;

/* Seconds on the monotonic clock. */
static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Read a whole file into a Body; exits on failure. */
static Body
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	Body		b = {NULL, 0};

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (b.len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fprintf(stderr, "loadgen: cannot read %s\n", path);
		exit(2);
	}
	b.data = malloc((size_t) b.len);
	if (b.data == NULL || fread(b.data, 1, (size_t) b.len, f) != (size_t) b.len)
	{
		fprintf(stderr, "loadgen: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	return b;
}

/* libcurl's write callback: the answer's body is not needed. */
static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	(void) ptr;
	(void) userdata;
	return size * nmemb;
}

/* Remember one acknowledged upload's latency. */
static void
record_latency(Client *c, double ms)
{
	if (c->n_latencies == c->cap_latencies)
	{
		c->cap_latencies = c->cap_latencies ? c->cap_latencies * 2 : 4096;
		c->latencies = realloc(c->latencies, sizeof(double) * (size_t) c->cap_latencies);
		if (c->latencies == NULL)
		{
			fprintf(stderr, "loadgen: out of memory\n");
			exit(2);
		}
	}
	c->latencies[c->n_latencies++] = ms;
}

/* One client: upload the files in turn until the deadline. */
static void *
run_client(void *arg)
{
	Client	   *c = arg;
	CURL	   *curl = curl_easy_init();
	struct curl_slist *headers = NULL;

	if (curl == NULL)
		return NULL;
	headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
	/* no "Expect: 100-continue" round trip before each body */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, target);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	for (long i = c->index; now_seconds() < deadline; i++)
	{
		const Body *b = &bodies[i % n_bodies];
		long		status = 0;
		double		t0 = now_seconds();
		CURLcode	rc;

		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b->data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, b->len);
		rc = curl_easy_perform(curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && status == 200)
		{
			c->acked++;
			c->bytes += b->len;
			record_latency(c, (now_seconds() - t0) * 1000.0);
		}
		else
			c->failed++;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return NULL;
}

/* qsort's comparison of two latencies. */
static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Start the clients, wait for them and print the totals. */
int
main(int argc, char **argv)
{
	int			n_clients;
	double		seconds;
	double		started;
	Client	   *clients;
	pthread_t  *threads;
	long		acked = 0, failed = 0, bytes = 0, n = 0;
	double	   *all;
	double		cpu_seconds;
	struct rusage usage;

	if (argc < 5 || (n_clients = atoi(argv[2])) <= 0 || (seconds = atof(argv[3])) <= 0)
	{
		fprintf(stderr, "usage: loadgen URL CLIENTS SECONDS FILE...\n");
		return 2;
	}
	target = argv[1];
	n_bodies = argc - 4;
	bodies = calloc((size_t) n_bodies, sizeof(Body));
	clients = calloc((size_t) n_clients, sizeof(Client));
	threads = calloc((size_t) n_clients, sizeof(pthread_t));
	if (bodies == NULL || clients == NULL || threads == NULL)
	{
		fprintf(stderr, "loadgen: out of memory\n");
		return 2;
	}
	for (int i = 0; i < n_bodies; i++)
		bodies[i] = read_file(argv[4 + i]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	started = now_seconds();
	deadline = started + seconds;
	for (int i = 0; i < n_clients; i++)
	{
		clients[i].index = i;
		if (pthread_create(&threads[i], NULL, run_client, &clients[i]) != 0)
		{
			fprintf(stderr, "loadgen: cannot start a client thread\n");
			return 2;
		}
	}
	for (int i = 0; i < n_clients; i++)
	{
		pthread_join(threads[i], NULL);
		acked += clients[i].acked;
		failed += clients[i].failed;
		bytes += clients[i].bytes;
	}
	seconds = now_seconds() - started;
	getrusage(RUSAGE_SELF, &usage);
	cpu_seconds = (double) usage.ru_utime.tv_sec + (double) usage.ru_utime.tv_usec / 1e6 +
		(double) usage.ru_stime.tv_sec + (double) usage.ru_stime.tv_usec / 1e6;
	all = malloc(sizeof(double) * (size_t) (acked ? acked : 1));
	if (all == NULL)
	{
		fprintf(stderr, "loadgen: out of memory\n");
		return 2;
	}
	for (int i = 0; i < n_clients; i++)
		for (long k = 0; k < clients[i].n_latencies; k++)
			all[n++] = clients[i].latencies[k];
	qsort(all, (size_t) n, sizeof(double), compare_doubles);
	printf("{\"acked\":%ld,\"failed\":%ld,\"bytes\":%ld,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
		   "\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
		   acked, failed, bytes, seconds, cpu_seconds,
		   n ? all[(long) (0.50 * (double) (n - 1))] : 0.0,
		   n ? all[(long) (0.99 * (double) (n - 1))] : 0.0);
	curl_global_cleanup();
	return acked > 0 ? 0 : 1;
}
