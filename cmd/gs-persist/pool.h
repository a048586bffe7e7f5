/*
 * A bounded pool of worker threads for work that must stay off the
 * loop: password hashes (tens to hundreds of milliseconds each).
 *
 * The loop thread submits jobs; a worker runs job->fn(job) and puts
 * the job on the done list, then wakes the loop with ev_async_send().
 * The loop takes finished jobs with pool_done().  A job belongs to the
 * pool from pool_submit() until pool_done() returns it: the loop must
 * not touch it meanwhile, and the worker touches nothing else.
 */
#ifndef PST_POOL_H
#define PST_POOL_H

#include <pthread.h>
#include <stdbool.h>

#include <ev.h>

struct pool_job;
typedef void pool_fn(struct pool_job *);

struct pool_job {
	struct pool_job	*next;
	pool_fn		*fn;
	void		*arg;		/* the job's owner */
	/* A password check or hash: the worker's input and output. */
	char		 pass[1025];	/* zeroed by the worker when done */
	size_t		 passlen;
	char		 stored[256];	/* check: the hash; make: the result */
	int		 result;	/* the pwhash_* result */
};

/* result of a job that no worker ran (pool_stop). */
#define POOL_NOT_RUN	(-1000)

struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	*threads;
	int		 nthreads;
	unsigned	 cap;		/* jobs queued or running, at most */
	unsigned	 n;		/* jobs queued or running */
	struct pool_job	*todo, **todo_tail;
	struct pool_job	*done, **done_tail;
	bool		 stop;
	struct ev_loop	*loop;
	ev_async	*wake;		/* borrowed: the loop's watcher */
};

/* Start nthreads workers.  wake is sent after each finished job.
 * 0, or an errno value. */
int	pool_start(struct pool *, int nthreads, unsigned cap,
	    struct ev_loop *loop, ev_async *wake);
/* false when cap jobs are queued or running (the job is not taken).
 * Sets j->result to POOL_NOT_RUN. */
bool	pool_submit(struct pool *, struct pool_job *);
/* The finished jobs, oldest first, or NULL; they are the caller's. */
struct pool_job *pool_done(struct pool *);
/* Let the running jobs finish, drop the queued ones (returned through
 * pool_done() as they are, result untouched), join the workers. */
void	pool_stop(struct pool *);
/* After pool_stop() and draining pool_done(): free the lock. */
void	pool_free(struct pool *);

#endif
