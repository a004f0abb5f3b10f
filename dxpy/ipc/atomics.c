/* dxpy.ipc._atomics: 16-byte atomics on shared memory, for dxpy.ipc.entangled.
 *
 * An Entangled value's header keeps (state, inline int64) in one 16-byte
 * aligned pair, and every version is published by one compare-and-swap of
 * that pair: a process killed before the CAS published nothing, after it
 * everything, so no lock is ever left held and nothing is torn.
 *
 * Plain CPython C API rather than cffi: a CAS takes nanoseconds, so the
 * call itself must be cheap (METH_FASTCALL, the GIL kept: cffi would release
 * and re-take it around every call), and (state, value) come back as one
 * tuple, never through an out-parameter another thread could overwrite.
 * Each call takes the mapping as a buffer for its duration, so a closed
 * mmap raises ValueError instead of being touched after it is unmapped.
 *
 * x86-64 needs CMPXCHG16B (usable() checks CPUID); aarch64 uses its
 * exclusive pair instructions.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>
#define DXA_TARGET __attribute__((target("cx16")))
static int cpu_has_cas16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_CMPXCHG16B) != 0;
}
#elif defined(__aarch64__)
#define DXA_TARGET
static int cpu_has_cas16(void) { return 1; }
#else
#error "dxpy.ipc._atomics: 16-byte compare-and-swap is implemented for x86-64 and aarch64 only"
#endif

typedef unsigned __int128 pair_t;

DXA_TARGET static pair_t pair_load(pair_t *where) {
    /* a CAS that replaces 0 with 0 returns the pair atomically (it may store
       the same value back: the mapping is writable) */
    return __sync_val_compare_and_swap(where, (pair_t)0, (pair_t)0);
}

DXA_TARGET static int pair_cas(pair_t *where, pair_t expected, pair_t desired) {
    return __sync_bool_compare_and_swap(where, expected, desired);
}

static pair_t make_pair(uint64_t state, int64_t value) {
    return ((pair_t)(uint64_t)value << 64) | state;
}

/* The writable, aligned pair at `offset` of `mapping`; the caller releases `view`. */
static pair_t *pair_at(PyObject *mapping, PyObject *offset_obj, Py_buffer *view) {
    Py_ssize_t offset = PyLong_AsSsize_t(offset_obj);
    if (offset == -1 && PyErr_Occurred()) return NULL;
    if (PyObject_GetBuffer(mapping, view, PyBUF_WRITABLE) < 0) return NULL;
    if (offset < 0 || offset > view->len - 16 || ((uintptr_t)view->buf + offset) % 16) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "no 16-byte aligned pair at offset %zd of a %zd-byte buffer",
                     offset, view->len);
        return NULL;
    }
    return (pair_t *)((char *)view->buf + offset);
}

static PyObject *atomics_load(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "load(mapping, offset)");
        return NULL;
    }
    Py_buffer view;
    pair_t *where = pair_at(args[0], args[1], &view);
    if (where == NULL) return NULL;
    pair_t seen = pair_load(where);
    PyBuffer_Release(&view);
    return Py_BuildValue("(KL)", (unsigned long long)(uint64_t)seen,
                         (long long)(int64_t)(uint64_t)(seen >> 64));
}

static PyObject *atomics_cas(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "compare_and_swap(mapping, offset, state, value, new_state, new_value)");
        return NULL;
    }
    uint64_t state = PyLong_AsUnsignedLongLong(args[2]);
    if (state == (uint64_t)-1 && PyErr_Occurred()) return NULL;
    int64_t value = PyLong_AsLongLong(args[3]);
    if (value == -1 && PyErr_Occurred()) return NULL;
    uint64_t new_state = PyLong_AsUnsignedLongLong(args[4]);
    if (new_state == (uint64_t)-1 && PyErr_Occurred()) return NULL;
    int64_t new_value = PyLong_AsLongLong(args[5]);
    if (new_value == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view;
    pair_t *where = pair_at(args[0], args[1], &view);
    if (where == NULL) return NULL;
    int done = pair_cas(where, make_pair(state, value), make_pair(new_state, new_value));
    PyBuffer_Release(&view);
    return PyBool_FromLong(done);
}

/* update_inline(mapping, offset, tag, fn, attempts): Entangled.update's loop
 * for an int stored in the pair itself (state's low byte == tag), in C so a
 * counter increment is one call: load, fn(value), CAS, retried on a lost
 * CAS.  Returns the new version; 0 when `attempts` (>= 1; -1: no bound) CASes
 * were lost; None when the value is not inline (fn not called); or
 * (version, result) when fn returned something other than an int, for the
 * caller's general write.  The mapping's buffer is not held while fn runs. */
static PyObject *atomics_update_inline(PyObject *module, PyObject *const *args,
                                       Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "update_inline(mapping, offset, tag, fn, attempts)");
        return NULL;
    }
    long tag = PyLong_AsLong(args[2]);
    if (tag == -1 && PyErr_Occurred()) return NULL;
    long attempts = PyLong_AsLong(args[4]);
    if (attempts == -1 && PyErr_Occurred()) return NULL;
    for (long lost = 0; attempts < 0 || lost < attempts; lost++) {
        Py_buffer view;
        pair_t *where = pair_at(args[0], args[1], &view);
        if (where == NULL) return NULL;
        pair_t seen = pair_load(where);
        PyBuffer_Release(&view);
        uint64_t state = (uint64_t)seen;
        if ((long)(state & 0xFF) != tag) Py_RETURN_NONE;
        uint64_t version = state >> 8;
        PyObject *old = PyLong_FromLongLong((long long)(int64_t)(uint64_t)(seen >> 64));
        if (old == NULL) return NULL;
        PyObject *result = PyObject_CallOneArg(args[3], old);
        Py_DECREF(old);
        if (result == NULL) return NULL;
        if (!PyLong_CheckExact(result)) return Py_BuildValue("(KN)", (unsigned long long)version, result);
        int64_t value = PyLong_AsLongLong(result);
        Py_DECREF(result);
        if (value == -1 && PyErr_Occurred()) return NULL;
        where = pair_at(args[0], args[1], &view);
        if (where == NULL) return NULL;
        int done = pair_cas(where, seen, make_pair((version + 1) << 8 | (uint64_t)tag, value));
        PyBuffer_Release(&view);
        if (done) return PyLong_FromUnsignedLongLong(version + 1);
    }
    return PyLong_FromLong(0);
}

static PyObject *atomics_usable(PyObject *module, PyObject *unused) {
    return PyBool_FromLong(cpu_has_cas16());
}

static PyMethodDef atomics_methods[] = {
    {"load", (PyCFunction)(void (*)(void))atomics_load, METH_FASTCALL,
     "load(mapping, offset) -> (state, value): the pair, read atomically."},
    {"compare_and_swap", (PyCFunction)(void (*)(void))atomics_cas, METH_FASTCALL,
     "compare_and_swap(mapping, offset, state, value, new_state, new_value) -> bool."},
    {"update_inline", (PyCFunction)(void (*)(void))atomics_update_inline, METH_FASTCALL,
     "update_inline(mapping, offset, tag, fn, attempts): see atomics.c."},
    {"usable", atomics_usable, METH_NOARGS, "Whether this CPU has a 16-byte CAS."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef atomics_module = {
    PyModuleDef_HEAD_INIT, "dxpy.ipc._atomics",
    "16-byte atomics on shared memory for Entangled (see atomics.c).", -1, atomics_methods,
};

PyMODINIT_FUNC PyInit__atomics(void) { return PyModule_Create(&atomics_module); }
