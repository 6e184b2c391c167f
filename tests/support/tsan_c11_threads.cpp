// SPDX-License-Identifier: Apache-2.0
// For ThreadSanitizer runs only (LD_PRELOAD, set by dhub_tsan_preload_c11_threads in cmake/DhubTests.cmake):
// C11's <threads.h> calls done again through the pthread functions TSan intercepts. glibc implements thrd_create,
// mtx_lock and cnd_wait by calling its pthread internals directly, past TSan's interceptors, so threads a library
// starts that way (librdkafka's) crash TSan at their first allocation, and their locks are invisible to it. glibc's
// thrd_t, mtx_t and cnd_t are pthread_t, pthread_mutex_t and pthread_cond_t underneath. call_once and tss_* are
// left as they are: librdkafka's one-time global init stays invisible, and tests/tsan.supp covers its frames.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace {

struct Start {
    thrd_start_t function;
    void* argument;
};

void* trampoline(void* start) {
    const Start copy = *static_cast<Start*>(start);
    std::free(start);
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(copy.function(copy.argument)));
}

int result(int error) {
    if (error == 0) return thrd_success;
    if (error == ETIMEDOUT) return thrd_timedout;
    if (error == EBUSY) return thrd_busy;
    if (error == ENOMEM) return thrd_nomem;
    return thrd_error;
}

pthread_mutex_t* native(mtx_t* mutex) {
    return reinterpret_cast<pthread_mutex_t*>(mutex);
}
pthread_cond_t* native(cnd_t* condition) {
    return reinterpret_cast<pthread_cond_t*>(condition);
}

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
    auto* start = static_cast<Start*>(std::malloc(sizeof(Start)));
    if (start == nullptr) return thrd_nomem;
    *start = {function, argument};
    const int error = pthread_create(thread, nullptr, trampoline, start);
    if (error != 0) std::free(start);
    return result(error);
}

int thrd_join(thrd_t thread, int* value) {
    void* returned = nullptr;
    const int error = pthread_join(thread, &returned);
    if (error == 0 && value != nullptr) *value = static_cast<int>(reinterpret_cast<std::intptr_t>(returned));
    return result(error);
}

int thrd_detach(thrd_t thread) {
    return result(pthread_detach(thread));
}

int mtx_init(mtx_t* mutex, int type) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
    const int error = pthread_mutex_init(native(mutex), &attributes);
    pthread_mutexattr_destroy(&attributes);
    return result(error);
}
int mtx_lock(mtx_t* mutex) {
    return result(pthread_mutex_lock(native(mutex)));
}
int mtx_trylock(mtx_t* mutex) {
    return result(pthread_mutex_trylock(native(mutex)));
}
int mtx_timedlock(mtx_t* mutex, const struct timespec* deadline) {
    return result(pthread_mutex_timedlock(native(mutex), deadline));
}
int mtx_unlock(mtx_t* mutex) {
    return result(pthread_mutex_unlock(native(mutex)));
}
void mtx_destroy(mtx_t* mutex) {
    pthread_mutex_destroy(native(mutex));
}

int cnd_init(cnd_t* condition) {
    return result(pthread_cond_init(native(condition), nullptr));
}
int cnd_signal(cnd_t* condition) {
    return result(pthread_cond_signal(native(condition)));
}
int cnd_broadcast(cnd_t* condition) {
    return result(pthread_cond_broadcast(native(condition)));
}
int cnd_wait(cnd_t* condition, mtx_t* mutex) {
    return result(pthread_cond_wait(native(condition), native(mutex)));
}
int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* deadline) {
    return result(pthread_cond_timedwait(native(condition), native(mutex), deadline));
}
void cnd_destroy(cnd_t* condition) {
    pthread_cond_destroy(native(condition));
}

}  // extern "C"
