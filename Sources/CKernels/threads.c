// A small persistent thread pool for the kernels' parallel loops.
//
// Ops call ck_parallel_for thousands of times per training run, so dispatch must cost
// microseconds, not the tens of microseconds of waking a sleeping thread: workers spin for a
// short while after each job (where the next one usually arrives) and only then sleep on a
// condition variable. The caller always works on the job too, and never waits for a worker that
// has not joined yet, so a slow-to-wake worker costs nothing but its missing help.
//
// Job hand-over is a sequence-lock: `gen` is odd while the caller rewrites the job and even once
// it is published. A worker registers in `users` and re-checks `gen` before reading the job; the
// caller only rewrites the job once `users` is zero. Both sides use sequentially consistent
// operations for that pair, so one of them always sees the other.
#define _GNU_SOURCE
#include "ckernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CK_MAX_THREADS 256
// How long an idle worker keeps spinning before it sleeps.
#define CK_SPIN_NS 200000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// MARK: - Thread count

static _Atomic int g_threads = 0; // 0: not read from the environment yet

static int clamp_threads(long n) { return n < 1 ? 1 : (n > CK_MAX_THREADS ? CK_MAX_THREADS : (int)n); }

static int default_threads(void) {
    const char *s = getenv("SIAMESE_THREADS");
    if (s != NULL && *s != '\0') {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v > 0) return clamp_threads(v);
    }
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int c = CPU_COUNT(&set);
        if (c > 0) return clamp_threads(c);
    }
#endif
    return clamp_threads(sysconf(_SC_NPROCESSORS_ONLN));
}

int ck_get_threads(void) {
    int t = atomic_load_explicit(&g_threads, memory_order_relaxed);
    if (t > 0) return t;
    t = default_threads();
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_threads, &expected, t)) t = expected;
    return t;
}

void ck_set_threads(int n) { atomic_store_explicit(&g_threads, clamp_threads(n), memory_order_relaxed); }

// MARK: - Pool

static struct {
    _Atomic uint32_t gen;
    _Atomic int32_t users;
    _Atomic int busy;     // held by the one caller whose job is published
    _Atomic int started;  // workers created so far
    _Atomic int sleepers;
    // The job: written only while gen is odd and users == 0.
    ck_task_fn fn;
    void *ctx;
    int64_t count;
    int max_workers;
    _Atomic int64_t next;
    _Atomic int64_t done;
    _Atomic int joined;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;

// Set on workers and, during a job, on its caller: nested parallel loops run inline.
static _Thread_local int tls_in_task;

static void run_items(void) {
    int64_t count = pool.count;
    ck_task_fn fn = pool.fn;
    void *ctx = pool.ctx;
    for (;;) {
        int64_t i = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (i >= count) break;
        fn(ctx, i);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

// Waits for a published generation other than `seen`.
static uint32_t wait_for_job(uint32_t seen) {
    int64_t deadline = 0;
    for (unsigned spins = 0;; spins++) {
        uint32_t g = atomic_load_explicit(&pool.gen, memory_order_acquire);
        if (g != seen && (g & 1) == 0) return g;
        if ((spins & 255) == 0) {
            int64_t t = now_ns();
            if (deadline == 0) deadline = t + CK_SPIN_NS;
            else if (t > deadline) break;
        }
        cpu_relax();
    }
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add(&pool.sleepers, 1);
    uint32_t g = atomic_load(&pool.gen);
    while (g == seen || (g & 1) != 0) {
        pthread_cond_wait(&pool.cv, &pool.mu);
        g = atomic_load(&pool.gen);
    }
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.mu);
    return g;
}

static void *worker_main(void *arg) {
    tls_in_task = 1;
    // The generation current when the worker was created: the job about to be published (the
    // one the worker was created for) is newer, so the worker joins it however late it starts.
    uint32_t seen = (uint32_t)(uintptr_t)arg;
    for (;;) {
        uint32_t g = wait_for_job(seen);
        seen = g;
        atomic_fetch_add(&pool.users, 1);
        if (atomic_load(&pool.gen) == g) {
            if (atomic_fetch_add_explicit(&pool.joined, 1, memory_order_relaxed) < pool.max_workers)
                run_items();
        }
        atomic_fetch_sub_explicit(&pool.users, 1, memory_order_release);
    }
    return NULL;
}

static void ensure_workers(int n) {
    if (atomic_load_explicit(&pool.started, memory_order_acquire) >= n) return;
    pthread_mutex_lock(&start_mu);
    int s = atomic_load(&pool.started);
    // Only the caller holding pool.busy gets here, before it publishes its job: gen is stable.
    const uintptr_t gen = atomic_load(&pool.gen);
    for (; s < n; s++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker_main, (void *)gen);
        pthread_attr_destroy(&attr);
        if (rc != 0) break; // run with the workers we have
    }
    atomic_store_explicit(&pool.started, s, memory_order_release);
    pthread_mutex_unlock(&start_mu);
}

void ck_parallel_for(int64_t count, ck_task_fn fn, void *ctx) {
    if (count <= 0) return;
    int threads = ck_get_threads();
    int expected = 0;
    if (count == 1 || threads == 1 || tls_in_task
        || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        for (int64_t i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    int workers = threads - 1;
    if (workers > count - 1) workers = (int)(count - 1);
    ensure_workers(workers);

    uint32_t g = atomic_load_explicit(&pool.gen, memory_order_relaxed);
    atomic_store(&pool.gen, g + 1);
    while (atomic_load(&pool.users) != 0) cpu_relax();
    pool.fn = fn;
    pool.ctx = ctx;
    pool.count = count;
    pool.max_workers = workers;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.joined, 0, memory_order_relaxed);
    atomic_store(&pool.gen, g + 2);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.cv);
        pthread_mutex_unlock(&pool.mu);
    }

    tls_in_task = 1;
    run_items();
    tls_in_task = 0;
    for (unsigned spins = 0; atomic_load_explicit(&pool.done, memory_order_acquire) < count; spins++) {
        // A worker descheduled by another process would otherwise have us burn its core.
        if (spins > 4096) sched_yield();
        else cpu_relax();
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}
