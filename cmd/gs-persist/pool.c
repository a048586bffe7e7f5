/* Worker threads for password hashing; see pool.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

static void *
pool_main(void *arg)
{
	struct pool	*p = arg;
	struct pool_job	*j;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->todo == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		j = p->todo;
		if ((p->todo = j->next) == NULL)
			p->todo_tail = &p->todo;
		pthread_mutex_unlock(&p->mu);
		j->fn(j);
		pthread_mutex_lock(&p->mu);
		j->next = NULL;
		*p->done_tail = j;
		p->done_tail = &j->next;
		pthread_mutex_unlock(&p->mu);
		/* ev_async_send is the one libev call safe off the loop. */
		ev_async_send(p->loop, p->wake);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
pool_start(struct pool *p, int nthreads, unsigned cap, struct ev_loop *loop,
    ev_async *wake)
{
	int	i, rv;

	memset(p, 0, sizeof(*p));
	p->todo_tail = &p->todo;
	p->done_tail = &p->done;
	p->cap = cap;
	p->loop = loop;
	p->wake = wake;
	if ((rv = pthread_mutex_init(&p->mu, NULL)) != 0)
		return rv;
	if ((rv = pthread_cond_init(&p->cv, NULL)) != 0)
		return rv;
	if ((p->threads = calloc((size_t)nthreads, sizeof(*p->threads))) ==
	    NULL)
		return ENOMEM;
	for (i = 0; i < nthreads; i++) {
		if ((rv = pthread_create(&p->threads[i], NULL, pool_main,
		    p)) != 0) {
			pool_stop(p);
			return rv;
		}
		p->nthreads++;
	}
	return 0;
}

bool
pool_submit(struct pool *p, struct pool_job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->n >= p->cap || p->stop) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	p->n++;
	j->result = POOL_NOT_RUN;
	j->next = NULL;
	*p->todo_tail = j;
	p->todo_tail = &j->next;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return true;
}

struct pool_job *
pool_done(struct pool *p)
{
	struct pool_job	*j;

	pthread_mutex_lock(&p->mu);
	if ((j = p->done) != NULL) {
		if ((p->done = j->next) == NULL)
			p->done_tail = &p->done;
		j->next = NULL;
		p->n--;
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

void
pool_stop(struct pool *p)
{
	struct pool_job	*j;
	int		 i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		(void)pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	p->nthreads = 0;
	/* What no worker took goes back through the done list. */
	while ((j = p->todo) != NULL) {
		p->todo = j->next;
		j->next = NULL;
		*p->done_tail = j;
		p->done_tail = &j->next;
	}
	p->todo_tail = &p->todo;
}

void
pool_free(struct pool *p)
{
	(void)pthread_cond_destroy(&p->cv);
	(void)pthread_mutex_destroy(&p->mu);
}
