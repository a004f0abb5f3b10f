/* dxpy.simd._listfront: SimdList's sum/min/max/index/count for small lists, in C.
 *
 * Why C: on a 10-element SimdList the Python method alone (its frame, the
 * dispatcher's size check, tolist() of the NumPy storage) cost 1-2 us where
 * sum(list) costs 0.1-0.2 us.  These are method descriptors on SimdList
 * (called like list's own methods, with no Python frame): for an exact
 * SimdList with int64 or float64 storage, 1 <= length < the op's limit, no
 * keywords and the plain argument shape, they scan the storage here with
 * Python's exact semantics -- int sums in 128 bits (beyond int64: the Python
 * path), float sums left to right from 0.0 like the builtin, min/max keeping
 * the first of equal elements and never replacing a NaN that came first,
 * index/count of an exact int (int64 storage) or a non-NaN float (float64).
 * Everything else -- long lists (the SIMD engines win there), an empty list,
 * object storage, keywords, other value types, a missing element (whose
 * ValueError the Python method words) -- calls the pure-Python method
 * (dxpy/simd/simdlist.py), so the semantics never depend on this file.
 *
 * The storage is read through SimdList's __slots__ (offsets taken from its
 * member descriptors at install) and the buffer protocol of its ndarray.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>

enum { OP_SUM, OP_MIN, OP_MAX, OP_INDEX, OP_COUNT, OPS };
enum { STORE_NONE, STORE_INT64, STORE_FLOAT64 };
static const char *const OP_NAMES[OPS] = {"sum", "min", "max", "index", "count"};

static PyTypeObject *simdlist_type;
static Py_ssize_t off_kind, off_buf, off_len;
static PyObject *kind_int64, *kind_float64;
static PyObject *slow[OPS];
static Py_ssize_t limits[OPS][3];  /* [op][STORE_*]: lists shorter than this are scanned here */

typedef struct {
    int store;
    Py_ssize_t n;
    Py_buffer view;
} Storage;

static inline PyObject *slot(PyObject *self, Py_ssize_t offset) {
    return *(PyObject **)((char *)self + offset);
}

/* Whether the buffer holds what the storage kind says (int64: 'l'/'q', float64: 'd'). */
static int format_is(const Py_buffer *view, int store) {
    const char *f = view->format;
    if (f == NULL) return 0;
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (f[0] == 0 || f[1] != 0) return 0;
    return store == STORE_INT64 ? (f[0] == 'l' || f[0] == 'q') : f[0] == 'd';
}

/* 1 and the storage's buffer if op can run here on self; 0 (no error set) if not. */
static int open_storage(PyObject *self, int op, Storage *st) {
    if (simdlist_type == NULL || Py_TYPE(self) != simdlist_type) return 0;
    PyObject *kind = slot(self, off_kind), *length = slot(self, off_len), *buf = slot(self, off_buf);
    if (kind == NULL || length == NULL || buf == NULL || !PyLong_CheckExact(length)) return 0;
    st->store = kind == kind_int64 ? STORE_INT64 : kind == kind_float64 ? STORE_FLOAT64 : STORE_NONE;
    if (st->store == STORE_NONE) return 0;
    st->n = PyLong_AsSsize_t(length);
    if (st->n < 1 || st->n >= limits[op][st->store]) {
        PyErr_Clear();
        return 0;
    }
    if (PyObject_GetBuffer(buf, &st->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        return 0;
    }
    if (st->view.len < st->n * 8 || st->view.itemsize != 8 || !format_is(&st->view, st->store)) {
        PyBuffer_Release(&st->view);
        return 0;
    }
    return 1;
}

/* The pure-Python method: slow[op](self, *args, **kwargs). */
static PyObject *call_slow(int op, PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
    PyObject *small[8], **all = total < 8 ? small : PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
    if (all == NULL) return PyErr_NoMemory();
    all[0] = self;
    for (Py_ssize_t i = 0; i < total; i++) all[i + 1] = args[i];
    PyObject *result = PyObject_Vectorcall(slow[op], all, (size_t)(nargs + 1), kwnames);
    if (all != small) PyMem_Free(all);
    return result;
}

static PyObject *sum_here(const Storage *st) {
    if (st->store == STORE_FLOAT64) {
        const double *a = st->view.buf;
        double total = 0.0;  /* the builtin: 0 + a[0] (a float), then left to right */
        for (Py_ssize_t i = 0; i < st->n; i++) total += a[i];
        return PyFloat_FromDouble(total);
    }
    const int64_t *a = st->view.buf;
    __int128 total = 0;
    for (Py_ssize_t i = 0; i < st->n; i++) total += a[i];
    if (total < INT64_MIN || total > INT64_MAX) return NULL;  /* the Python path: exact big int */
    return PyLong_FromLongLong((long long)total);
}

static PyObject *extreme_here(const Storage *st, int want_max) {
    if (st->store == STORE_FLOAT64) {
        const double *a = st->view.buf;
        double best = a[0];
        for (Py_ssize_t i = 1; i < st->n; i++)
            if (want_max ? a[i] > best : a[i] < best) best = a[i];
        return PyFloat_FromDouble(best);
    }
    const int64_t *a = st->view.buf;
    int64_t best = a[0];
    for (Py_ssize_t i = 1; i < st->n; i++)
        if (want_max ? a[i] > best : a[i] < best) best = a[i];
    return PyLong_FromLongLong(best);
}

/* index (first position) or count of value; NULL (no error): the Python path decides. */
static PyObject *search_here(const Storage *st, PyObject *value, int want_count) {
    Py_ssize_t found = 0;
    if (st->store == STORE_INT64) {
        int overflow = 0;
        if (!PyLong_CheckExact(value)) return NULL;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            return NULL;
        }
        const int64_t *a = st->view.buf;
        for (Py_ssize_t i = 0; i < st->n; i++) {
            if (a[i] != v) continue;
            if (!want_count) return PyLong_FromSsize_t(i);
            found++;
        }
    } else {
        if (!PyFloat_CheckExact(value) || Py_IS_NAN(PyFloat_AS_DOUBLE(value))) return NULL;
        double v = PyFloat_AS_DOUBLE(value);
        const double *a = st->view.buf;
        for (Py_ssize_t i = 0; i < st->n; i++) {
            if (a[i] != v) continue;
            if (!want_count) return PyLong_FromSsize_t(i);
            found++;
        }
    }
    return want_count ? PyLong_FromSsize_t(found) : NULL;  /* not found: Python raises */
}

static PyObject *run(int op, PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    int plain = (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0)
                && nargs == (op == OP_INDEX || op == OP_COUNT ? 1 : 0);
    Storage st;
    if (plain && open_storage(self, op, &st)) {
        PyObject *result = op == OP_SUM ? sum_here(&st)
                         : op == OP_MIN || op == OP_MAX ? extreme_here(&st, op == OP_MAX)
                         : search_here(&st, args[0], op == OP_COUNT);
        PyBuffer_Release(&st.view);
        if (result != NULL || PyErr_Occurred()) return result;
    }
    return call_slow(op, self, args, nargs, kwnames);
}

#define METHOD(op) \
    static PyObject *method_##op(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) { \
        return run(op, self, args, nargs, kwnames); \
    }
METHOD(OP_SUM)
METHOD(OP_MIN)
METHOD(OP_MAX)
METHOD(OP_INDEX)
METHOD(OP_COUNT)

static PyMethodDef method_defs[OPS] = {
    {"sum", (PyCFunction)(void (*)(void))method_OP_SUM, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"min", (PyCFunction)(void (*)(void))method_OP_MIN, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"max", (PyCFunction)(void (*)(void))method_OP_MAX, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"index", (PyCFunction)(void (*)(void))method_OP_INDEX, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"count", (PyCFunction)(void (*)(void))method_OP_COUNT, METH_FASTCALL | METH_KEYWORDS, NULL},
};
static PyObject *docs[OPS];

static Py_ssize_t slot_offset(PyTypeObject *cls, const char *name) {
    PyObject *descr = PyDict_GetItemString(cls->tp_dict, name);
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)descr)->d_member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "install: %s.%s is not a __slots__ member", cls->tp_name, name);
        return -1;
    }
    return ((PyMemberDescrObject *)descr)->d_member->offset;
}

/* install(cls, pure: dict name -> function, docs: dict name -> str) -> dict name -> descriptor */
static PyObject *install(PyObject *module, PyObject *args) {
    PyTypeObject *cls;
    PyObject *pure, *doc_of;
    if (!PyArg_ParseTuple(args, "O!O!O!:install", &PyType_Type, &cls, &PyDict_Type, &pure, &PyDict_Type, &doc_of))
        return NULL;
    if (simdlist_type != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "install: SimdList's methods are installed once");
        return NULL;
    }
    if ((off_kind = slot_offset(cls, "_kind")) < 0 || (off_buf = slot_offset(cls, "_buf")) < 0
            || (off_len = slot_offset(cls, "_len")) < 0)
        return NULL;
    PyObject *installed = PyDict_New();
    if (installed == NULL) return NULL;
    for (int op = 0; op < OPS; op++) {
        PyObject *function = PyDict_GetItemString(pure, OP_NAMES[op]);
        PyObject *doc = PyDict_GetItemString(doc_of, OP_NAMES[op]);
        if (function == NULL || !PyCallable_Check(function) || doc == NULL || !PyUnicode_Check(doc)) {
            PyErr_Format(PyExc_TypeError, "install: need a function and a docstring for %s", OP_NAMES[op]);
            Py_DECREF(installed);
            return NULL;
        }
        Py_INCREF(function);
        Py_XSETREF(slow[op], function);
        Py_INCREF(doc);
        Py_XSETREF(docs[op], doc);
        method_defs[op].ml_doc = PyUnicode_AsUTF8(doc);
        PyObject *descr = method_defs[op].ml_doc == NULL ? NULL : PyDescr_NewMethod(cls, &method_defs[op]);
        if (descr == NULL || PyDict_SetItemString(installed, OP_NAMES[op], descr) < 0) {
            Py_XDECREF(descr);
            Py_DECREF(installed);
            return NULL;
        }
        Py_DECREF(descr);
    }
    kind_int64 = PyUnicode_InternFromString("int64");
    kind_float64 = PyUnicode_InternFromString("float64");
    if (kind_int64 == NULL || kind_float64 == NULL) {
        Py_DECREF(installed);
        return NULL;
    }
    Py_INCREF(cls);
    simdlist_type = cls;
    return installed;
}

/* set_limits(op, int64_limit, float64_limit): lists of that storage shorter than it run here. */
static PyObject *set_limits(PyObject *module, PyObject *args) {
    const char *name;
    Py_ssize_t for_int, for_float;
    if (!PyArg_ParseTuple(args, "snn:set_limits", &name, &for_int, &for_float)) return NULL;
    for (int op = 0; op < OPS; op++) {
        if (strcmp(name, OP_NAMES[op]) == 0) {
            limits[op][STORE_INT64] = for_int;
            limits[op][STORE_FLOAT64] = for_float;
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "set_limits: unknown operation %s", name);
    return NULL;
}

static PyMethodDef module_functions[] = {
    {"install", install, METH_VARARGS, "install(cls, pure, docs): the C methods for SimdList, by name."},
    {"set_limits", set_limits, METH_VARARGS, "set_limits(op, int64_limit, float64_limit)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef listfront_module = {
    PyModuleDef_HEAD_INIT, "dxpy.simd._listfront",
    "C methods for small SimdLists (see dxpy/simd/list_front.py).", -1, module_functions,
};

PyMODINIT_FUNC PyInit__listfront(void) {
    return PyModule_Create(&listfront_module);
}
