/* The JIT's C dispatcher: guard the arguments, unbox them, call machine code, box
 * the results -- with no Python-level work on the fast path.
 *
 * Why C: a compiled kernel that runs for a microsecond pays the dispatcher on every
 * call, and in Python that is a dict lookup, a tuple of types, per-array attribute
 * reads, a cffi call and a result struct (1.2-2.7 us); here it is a few compares.
 *
 * DispatcherBase is the base class of dxpy.jit.dispatcher.Dispatcher.  It holds a
 * list of Entry objects, one per compiled signature, each with the address of that
 * signature's packed entry point (i32 f(i64 *words, i64 *ret), see jit/abi.py) and
 * a guard per argument that is exactly what the JIT's typeof() would decide for it:
 * exact Python int/float/bool, an exact NumPy scalar type, or an ndarray with the
 * dtype object, ndim, C-contiguity, alignment (and writeability when the version
 * stores into it) of the signature.  A call whose arguments match no entry, uses
 * keywords, or returns a status other than OK is handed to Python
 * (self._slow_call / self._c_status), which does everything the slow way: the
 * semantics never depend on this file, only the cost does.
 *
 * NumPy's structs are read at byte offsets that Python measured on probe objects and
 * checked before calling configure() (no NumPy headers are needed to build this).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#define MAX_ARGS 16
#define MAX_RESULTS 16

enum {
    A_INT = 1, A_FLOAT, A_BOOL, A_ARRAY,
    A_NP_BOOL, A_NP_I8, A_NP_I16, A_NP_I32, A_NP_I64,
    A_NP_U8, A_NP_U16, A_NP_U32, A_NP_U64, A_NP_F32, A_NP_F64,
};

/* NumPy ABI facts, from configure(). */
static PyTypeObject *ndarray_type;
static PyObject *np_true, *np_false;
static Py_ssize_t scalar_value_at, nd_at, descr_at, flags_at;
static int enabled;
static PyObject *str_slow_call, *str_c_status;

typedef int32_t (*packed_fn)(int64_t *words, int64_t *ret);

typedef struct {
    uint8_t code;
    uint8_t ndim;
    int required_flags, forbidden_flags;
    PyObject *type;   /* NumPy scalar type or dtype (descr) object; borrowed from specs */
} ArgGuard;

typedef struct {
    uint8_t kind;     /* A_INT / A_FLOAT / A_BOOL: the Python type */
    uint8_t np;       /* 0 Python, 1 NumPy, 2 chosen by the run-time tag */
    uint8_t store;    /* A_NP_*: how a NumPy result is stored */
    PyTypeObject *type;
} ResultSpec;

typedef struct {
    PyObject_HEAD
    PyObject *version;   /* the Python-side version object */
    PyObject *specs;     /* keeps the guard/result type objects alive */
    packed_fn fn;
    int nargs, nresults, tuple, none, nogil;
    long long calls;
    ArgGuard guards[MAX_ARGS];
    ResultSpec results[MAX_RESULTS];
} EntryObject;

typedef struct {
    PyObject_HEAD
    PyObject *entries;   /* list of EntryObject, replaced (never mutated) by Python */
    long long calls;
} DispatcherObject;

/* -- arguments ------------------------------------------------------------------ */

static int pack_scalar(const ArgGuard *g, PyObject *o, int64_t *w)
{
    const char *p = (const char *)o + scalar_value_at;
    if ((PyObject *)Py_TYPE(o) != g->type)
        return 0;
    switch (g->code) {
    case A_NP_BOOL: *w = *(const uint8_t *)p != 0; return 1;
    case A_NP_I8: *w = *(const int8_t *)p; return 1;
    case A_NP_I16: *w = *(const int16_t *)p; return 1;
    case A_NP_I32: *w = *(const int32_t *)p; return 1;
    case A_NP_I64: *w = *(const int64_t *)p; return 1;
    case A_NP_U8: *w = *(const uint8_t *)p; return 1;
    case A_NP_U16: *w = *(const uint16_t *)p; return 1;
    case A_NP_U32: *w = *(const uint32_t *)p; return 1;
    case A_NP_U64: {
        uint64_t v = *(const uint64_t *)p;
        if (v >> 63)
            return 0;  /* beyond int64: the JIT does not hold it */
        *w = (int64_t)v;
        return 1;
    }
    case A_NP_F32: {
        double d = *(const float *)p;
        memcpy(w, &d, 8);
        return 1;
    }
    case A_NP_F64: memcpy(w, p, 8); return 1;
    }
    return 0;
}

static int pack_arg(const ArgGuard *g, PyObject *o, int64_t *w)
{
    switch (g->code) {
    case A_INT: {
        int overflow;
        long long v;
        if (!PyLong_CheckExact(o))
            return 0;
        v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow)
            return 0;
        *w = v;
        return 1;
    }
    case A_FLOAT: {
        double d;
        if (!PyFloat_CheckExact(o))
            return 0;
        d = PyFloat_AS_DOUBLE(o);
        memcpy(w, &d, 8);
        return 1;
    }
    case A_BOOL:
        if (o != Py_True && o != Py_False)
            return 0;
        *w = o == Py_True;
        return 1;
    case A_ARRAY: {
        const char *a = (const char *)o;
        int flags;
        if (Py_TYPE(o) != ndarray_type || *(PyObject *const *)(a + descr_at) != g->type
                || *(const int *)(a + nd_at) != g->ndim)
            return 0;
        flags = *(const int *)(a + flags_at);
        if ((flags & g->required_flags) != g->required_flags || (flags & g->forbidden_flags))
            return 0;
        *w = (int64_t)(intptr_t)o;
        return 1;
    }
    default:
        return pack_scalar(g, o, w);
    }
}

static int pack_args(const EntryObject *e, PyObject *args, int64_t *words)
{
    for (int i = 0; i < e->nargs; i++)
        if (!pack_arg(&e->guards[i], PyTuple_GET_ITEM(args, i), &words[i]))
            return 0;
    return 1;
}

/* -- results -------------------------------------------------------------------- */

static PyObject *box_numpy(const ResultSpec *r, int64_t bits)
{
    PyObject *o;
    char *p;
    double d;
    if (r->store == A_NP_BOOL) {
        o = bits ? np_true : np_false;
        Py_INCREF(o);
        return o;
    }
    o = r->type->tp_alloc(r->type, 0);  /* how NumPy makes its own scalars */
    if (o == NULL)
        return NULL;
    p = (char *)o + scalar_value_at;
    switch (r->store) {
    case A_NP_I8: case A_NP_U8: *(int8_t *)p = (int8_t)bits; break;
    case A_NP_I16: case A_NP_U16: *(int16_t *)p = (int16_t)bits; break;
    case A_NP_I32: case A_NP_U32: *(int32_t *)p = (int32_t)bits; break;
    case A_NP_F32: memcpy(&d, &bits, 8); *(float *)p = (float)d; break;
    default: memcpy(p, &bits, 8); break;  /* int64, uint64, float64 */
    }
    return o;
}

static PyObject *box_result(const ResultSpec *r, const int64_t *slot)
{
    int64_t bits = slot[0];
    double d;
    if (r->np == 1 || (r->np == 2 && slot[1]))
        return box_numpy(r, bits);
    switch (r->kind) {
    case A_INT: return PyLong_FromLongLong(bits);
    case A_BOOL: return PyBool_FromLong(bits != 0);
    default:
        memcpy(&d, &bits, 8);
        return PyFloat_FromDouble(d);
    }
}

static PyObject *box_results(const EntryObject *e, const int64_t *ret)
{
    PyObject *tuple;
    if (e->none)
        Py_RETURN_NONE;
    if (!e->tuple)
        return box_result(&e->results[0], ret);
    tuple = PyTuple_New(e->nresults);
    if (tuple == NULL)
        return NULL;
    for (int i = 0; i < e->nresults; i++) {
        PyObject *item = box_result(&e->results[i], ret + 2 * i);
        if (item == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    return tuple;
}

/* -- the call ------------------------------------------------------------------- */

static PyObject *status_call(DispatcherObject *self, EntryObject *e, PyObject *args,
                             int32_t status, const int64_t *ret)
{
    PyObject *code = PyLong_FromLong(status), *err0 = PyLong_FromLongLong(ret[0]),
             *err1 = PyLong_FromLongLong(ret[1]), *out = NULL;
    if (code && err0 && err1)
        out = PyObject_CallMethodObjArgs((PyObject *)self, str_c_status, e->version, args,
                                         code, err0, err1, NULL);
    Py_XDECREF(code);
    Py_XDECREF(err0);
    Py_XDECREF(err1);
    return out;
}

static PyObject *dispatcher_call(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    DispatcherObject *self = (DispatcherObject *)obj;
    self->calls++;
    if (enabled && (kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0) && self->entries != NULL
            && PyList_CheckExact(self->entries)) {
        PyObject *list = self->entries;
        Py_ssize_t nargs = PyTuple_GET_SIZE(args);
        int64_t words[MAX_ARGS];
        Py_INCREF(list);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
            EntryObject *e = (EntryObject *)PyList_GET_ITEM(list, i);
            int64_t ret[2 * MAX_RESULTS];
            int32_t status;
            PyObject *out;
            if (e->nargs != nargs || !pack_args(e, args, words))
                continue;
            Py_INCREF(e);
            Py_DECREF(list);
            if (e->nogil) {
                Py_BEGIN_ALLOW_THREADS
                status = e->fn(words, ret);
                Py_END_ALLOW_THREADS
            } else {
                status = e->fn(words, ret);
            }
            e->calls++;
            out = status == 0 ? box_results(e, ret) : status_call(self, e, args, status, ret);
            Py_DECREF(e);
            return out;
        }
        Py_DECREF(list);
    }
    return PyObject_CallMethodObjArgs(obj, str_slow_call, args, kwargs ? kwargs : Py_None,
                                      NULL);
}

/* -- Entry ---------------------------------------------------------------------- */

static int parse_guard(ArgGuard *g, PyObject *spec)
{
    /* (code, type object or None, ndim, required flags, forbidden flags) */
    int code, ndim;
    PyObject *type;
    if (!PyArg_ParseTuple(spec, "iOiii", &code, &type, &ndim, &g->required_flags,
                          &g->forbidden_flags))
        return -1;
    if (code < A_INT || code > A_NP_F64 || ndim < 0 || ndim > 32) {
        PyErr_SetString(PyExc_ValueError, "bad argument guard");
        return -1;
    }
    g->code = (uint8_t)code;
    g->ndim = (uint8_t)ndim;
    g->type = type;
    return 0;
}

static int parse_result(ResultSpec *r, PyObject *spec)
{
    /* (Python kind code, np 0/1/2, NumPy store code, NumPy type or None) */
    int kind, np, store;
    PyObject *type;
    if (!PyArg_ParseTuple(spec, "iiiO", &kind, &np, &store, &type))
        return -1;
    if (kind < A_INT || kind > A_BOOL || np < 0 || np > 2
            || (np && (!PyType_Check(type) || store < A_NP_BOOL || store > A_NP_F64))) {
        PyErr_SetString(PyExc_ValueError, "bad result spec");
        return -1;
    }
    r->kind = (uint8_t)kind;
    r->np = (uint8_t)np;
    r->store = (uint8_t)store;
    r->type = np ? (PyTypeObject *)type : NULL;
    return 0;
}

static int entry_init(PyObject *obj, PyObject *args, PyObject *kwargs)
{
    EntryObject *e = (EntryObject *)obj;
    PyObject *version, *guards, *results;
    unsigned long long address;
    int tuple, none, nogil;
    static char *names[] = {"version", "address", "guards", "results", "tuple", "none",
                            "nogil", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OKO!O!ppp", names, &version, &address,
                                     &PyTuple_Type, &guards, &PyTuple_Type, &results,
                                     &tuple, &none, &nogil))
        return -1;
    if (address == 0 || PyTuple_GET_SIZE(guards) > MAX_ARGS
            || PyTuple_GET_SIZE(results) > MAX_RESULTS || (!none && !tuple
            && PyTuple_GET_SIZE(results) != 1)) {
        PyErr_SetString(PyExc_ValueError, "entry outside the C dispatcher's limits");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(guards); i++)
        if (parse_guard(&e->guards[i], PyTuple_GET_ITEM(guards, i)) < 0)
            return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(results); i++)
        if (parse_result(&e->results[i], PyTuple_GET_ITEM(results, i)) < 0)
            return -1;
    Py_XSETREF(e->version, Py_NewRef(version));
    Py_XSETREF(e->specs, PyTuple_Pack(2, guards, results));
    if (e->specs == NULL)
        return -1;
    e->fn = (packed_fn)(uintptr_t)address;
    e->nargs = (int)PyTuple_GET_SIZE(guards);
    e->nresults = (int)PyTuple_GET_SIZE(results);
    e->tuple = tuple;
    e->none = none;
    e->nogil = nogil;
    e->calls = 0;
    return 0;
}

static int entry_traverse(PyObject *obj, visitproc visit, void *arg)
{
    EntryObject *e = (EntryObject *)obj;
    Py_VISIT(e->version);
    Py_VISIT(e->specs);
    return 0;
}

static int entry_clear(PyObject *obj)
{
    EntryObject *e = (EntryObject *)obj;
    Py_CLEAR(e->version);
    Py_CLEAR(e->specs);
    return 0;
}

static void entry_dealloc(PyObject *obj)
{
    PyObject_GC_UnTrack(obj);
    entry_clear(obj);
    Py_TYPE(obj)->tp_free(obj);
}

static PyMemberDef entry_members[] = {
    {"version", T_OBJECT, offsetof(EntryObject, version), READONLY,
     "the Python-side version this entry calls"},
    {"calls", T_LONGLONG, offsetof(EntryObject, calls), 0,
     "calls made through this entry (Python folds them into its stats)"},
    {NULL},
};

static PyTypeObject EntryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dxpy.jit._dispatch.Entry",
    .tp_doc = "One compiled signature: argument guards, packed entry point, result boxing.",
    .tp_basicsize = sizeof(EntryObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = entry_init,
    .tp_traverse = entry_traverse,
    .tp_clear = entry_clear,
    .tp_dealloc = entry_dealloc,
    .tp_members = entry_members,
};

/* -- DispatcherBase ------------------------------------------------------------- */

static int dispatcher_traverse(PyObject *obj, visitproc visit, void *arg)
{
    Py_VISIT(((DispatcherObject *)obj)->entries);
    return 0;
}

static int dispatcher_clear(PyObject *obj)
{
    Py_CLEAR(((DispatcherObject *)obj)->entries);
    return 0;
}

static void dispatcher_dealloc(PyObject *obj)
{
    /* A Python subclass's instance: subtype_dealloc drops the reference to its type. */
    PyObject_GC_UnTrack(obj);
    dispatcher_clear(obj);
    Py_TYPE(obj)->tp_free(obj);
}

static PyMemberDef dispatcher_members[] = {
    {"_centries", T_OBJECT, offsetof(DispatcherObject, entries), 0,
     "the C fast path's entries (a list, replaced whole, never mutated)"},
    {"calls", T_LONGLONG, offsetof(DispatcherObject, calls), 0, "calls so far"},
    {NULL},
};

static PyTypeObject DispatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dxpy.jit._dispatch.DispatcherBase",
    .tp_doc = "Calls compiled code for arguments an entry admits; _slow_call otherwise.",
    .tp_basicsize = sizeof(DispatcherObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_call = dispatcher_call,
    .tp_traverse = dispatcher_traverse,
    .tp_clear = dispatcher_clear,
    .tp_dealloc = dispatcher_dealloc,
    .tp_members = dispatcher_members,
};

/* -- module --------------------------------------------------------------------- */

static PyObject *configure(PyObject *module, PyObject *args)
{
    PyObject *ndarray, *t, *f;
    Py_ssize_t value_at, nd, descr, flags;
    if (!PyArg_ParseTuple(args, "O!OOnnnn", &PyType_Type, &ndarray, &t, &f, &value_at, &nd,
                          &descr, &flags))
        return NULL;
    if (value_at < (Py_ssize_t)sizeof(PyObject) || nd < 0 || descr < 0 || flags < 0) {
        PyErr_SetString(PyExc_ValueError, "bad NumPy layout");
        return NULL;
    }
    Py_XSETREF(ndarray_type, (PyTypeObject *)Py_NewRef(ndarray));
    Py_XSETREF(np_true, Py_NewRef(t));
    Py_XSETREF(np_false, Py_NewRef(f));
    scalar_value_at = value_at;
    nd_at = nd;
    descr_at = descr;
    flags_at = flags;
    enabled = 1;
    Py_RETURN_NONE;
}

static PyObject *set_enabled(PyObject *module, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    if (on < 0)
        return NULL;
    if (on && ndarray_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    enabled = on;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(ndarray, np.True_, np.False_, scalar value offset, nd, descr, flags "
     "offsets): NumPy's layout as measured by Python; enables the fast path."},
    {"set_enabled", set_enabled, METH_O,
     "Turn the C fast path on or off (off: every call goes to _slow_call)."},
    {NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "dxpy.jit._dispatch",
    "The JIT's C dispatcher (see the comment at the top of _dispatch.c).", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__dispatch(void)
{
    PyObject *m;
    str_slow_call = PyUnicode_InternFromString("_slow_call");
    str_c_status = PyUnicode_InternFromString("_c_status");
    if (str_slow_call == NULL || str_c_status == NULL || PyType_Ready(&EntryType) < 0
            || PyType_Ready(&DispatcherType) < 0)
        return NULL;
    m = PyModule_Create(&module_def);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Entry", (PyObject *)&EntryType) < 0
            || PyModule_AddObjectRef(m, "DispatcherBase", (PyObject *)&DispatcherType) < 0
            || PyModule_AddIntConstant(m, "MAX_ARGS", MAX_ARGS) < 0
            || PyModule_AddIntConstant(m, "MAX_RESULTS", MAX_RESULTS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#define CODE(name) if (PyModule_AddIntConstant(m, #name, name) < 0) { Py_DECREF(m); return NULL; }
    CODE(A_INT) CODE(A_FLOAT) CODE(A_BOOL) CODE(A_ARRAY) CODE(A_NP_BOOL) CODE(A_NP_I8)
    CODE(A_NP_I16) CODE(A_NP_I32) CODE(A_NP_I64) CODE(A_NP_U8) CODE(A_NP_U16)
    CODE(A_NP_U32) CODE(A_NP_U64) CODE(A_NP_F32) CODE(A_NP_F64)
#undef CODE
    return m;
}
