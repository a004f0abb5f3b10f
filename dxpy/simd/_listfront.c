/* dxpy.simd._listfront: SimdList's sum/min/max/index/count/filter/map for small lists, in C.
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
 * filter and map return a new SimdList, and on a 10-element list the Python
 * path's SimdList(list) construction (a storage scan per element, a NumPy
 * array from a list: ~1.5 us) cost more than the list comprehension a user
 * writes instead.  Here the result is built directly: the instance from the
 * type's allocator, its slots set as SimdList._from_array sets them, its
 * storage one np.empty(n, dtype) written through the buffer protocol.  Only
 * the cases whose Python result is known exactly are done here (same-kind
 * operands, no int64 overflow, no division by zero); the rest calls the
 * Python method.
 *
 * The storage is read through SimdList's __slots__ (offsets taken from its
 * member descriptors at install) and the buffer protocol of its ndarray.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>

enum { OP_SUM, OP_MIN, OP_MAX, OP_INDEX, OP_COUNT, OP_FILTER, OP_MAP, OPS };
enum { STORE_NONE, STORE_INT64, STORE_FLOAT64 };
static const char *const OP_NAMES[OPS] = {"sum", "min", "max", "index", "count", "filter", "map"};

static PyTypeObject *simdlist_type;
static Py_ssize_t off_kind, off_buf, off_len, off_items, off_view, off_version;
static PyObject *kind_int64, *kind_float64;
static PyObject *np_empty, *dtype_of[3];  /* numpy.empty and the dtypes, by STORE_* (set at install) */
static PyObject *slow[OPS];
static Py_ssize_t limits[OPS][3];  /* [op][STORE_*]: lists shorter than this are scanned here */

typedef struct {
    int store;
    Py_ssize_t n;
    void *data;      /* the first element */
    int viewed;      /* whether view is open (released by close_storage) */
    Py_buffer view;
} Storage;

/* The leading fields of NumPy's array object (PyArrayObject_fields in ndarraytypes.h, the
 * same since NumPy 1.7).  Reading them costs a few loads where the buffer protocol costs
 * ~500 instructions (NumPy fills in the format, shape and strides each time) -- most of
 * a 10-element call.  Used only when install's probe found the layout (layout_ok), only
 * on exact ndarrays with the canonical int64/float64 dtype, and C-contiguous; anything
 * else takes the buffer protocol. */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} ArrayHead;
enum { ARRAY_C_CONTIGUOUS = 0x1, ARRAY_WRITEABLE = 0x400 };
static PyTypeObject *ndarray_type;
static int layout_ok;

/* NumPy's PyArray_NewFromDescr, from its C-API table (the _ARRAY_API capsule; index 94 in
 * every NumPy ABI, 1.x and 2.x -- the table's indices never change).  numpy.empty costs
 * ~1000 instructions of argument parsing around the same call, most of a 10-element
 * filter.  Taken only when the table is NumPy's (its ABI version is a known one and its
 * entry 2 is the ndarray type) and a probe array made with it is right; else numpy.empty. */
typedef PyObject *(*NewFromDescr)(PyTypeObject *, PyObject *, int, const Py_ssize_t *, const Py_ssize_t *,
                                  void *, int, PyObject *);
static NewFromDescr new_from_descr;
enum { API_ABI_VERSION = 0, API_ARRAY_TYPE = 2, API_NEW_FROM_DESCR = 94 };

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

/* The data of array as at least n elements of store: from its fields when the layout is
 * known, else through the buffer protocol (st->viewed).  0, no error set: not usable. */
static int open_array(PyObject *array, int store, Py_ssize_t n, int flags, Storage *st) {
    st->store = store;
    st->n = n;
    st->viewed = 0;
    if (layout_ok && Py_TYPE(array) == ndarray_type) {
        const ArrayHead *head = (const ArrayHead *)array;
        int want = ARRAY_C_CONTIGUOUS | (flags & PyBUF_WRITABLE ? ARRAY_WRITEABLE : 0);
        if (head->descr != dtype_of[store] || head->nd != 1 || (head->flags & want) != want
                || head->dimensions[0] < n)
            return 0;
        st->data = head->data;
        return 1;
    }
    if (PyObject_GetBuffer(array, &st->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | flags) < 0) {
        PyErr_Clear();
        return 0;
    }
    if (st->view.len < n * 8 || st->view.itemsize != 8 || !format_is(&st->view, store)) {
        PyBuffer_Release(&st->view);
        return 0;
    }
    st->data = st->data;
    st->viewed = 1;
    return 1;
}

static void close_storage(Storage *st) {
    if (st->viewed) PyBuffer_Release(&st->view);
}

/* 1 and the storage's data if op can run here on self; 0 (no error set) if not. */
static int open_storage(PyObject *self, int op, Storage *st) {
    if (simdlist_type == NULL || Py_TYPE(self) != simdlist_type) return 0;
    PyObject *kind = slot(self, off_kind), *length = slot(self, off_len), *buf = slot(self, off_buf);
    if (kind == NULL || length == NULL || buf == NULL || !PyLong_CheckExact(length)) return 0;
    int store = kind == kind_int64 ? STORE_INT64 : kind == kind_float64 ? STORE_FLOAT64 : STORE_NONE;
    if (store == STORE_NONE) return 0;
    Py_ssize_t n = PyLong_AsSsize_t(length);
    if (n < 1 || n >= limits[op][store]) {
        PyErr_Clear();
        return 0;
    }
    return open_array(buf, store, n, 0, st);
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
        const double *a = st->data;
        double total = 0.0;  /* the builtin: 0 + a[0] (a float), then left to right */
        for (Py_ssize_t i = 0; i < st->n; i++) total += a[i];
        return PyFloat_FromDouble(total);
    }
    const int64_t *a = st->data;
    __int128 total = 0;
    for (Py_ssize_t i = 0; i < st->n; i++) total += a[i];
    if (total < INT64_MIN || total > INT64_MAX) return NULL;  /* the Python path: exact big int */
    return PyLong_FromLongLong((long long)total);
}

static PyObject *extreme_here(const Storage *st, int want_max) {
    if (st->store == STORE_FLOAT64) {
        const double *a = st->data;
        double best = a[0];
        for (Py_ssize_t i = 1; i < st->n; i++)
            if (want_max ? a[i] > best : a[i] < best) best = a[i];
        return PyFloat_FromDouble(best);
    }
    const int64_t *a = st->data;
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
        const int64_t *a = st->data;
        for (Py_ssize_t i = 0; i < st->n; i++) {
            if (a[i] != v) continue;
            if (!want_count) return PyLong_FromSsize_t(i);
            found++;
        }
    } else {
        if (!PyFloat_CheckExact(value) || Py_IS_NAN(PyFloat_AS_DOUBLE(value))) return NULL;
        double v = PyFloat_AS_DOUBLE(value);
        const double *a = st->data;
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
        close_storage(&st);
        if (result != NULL || PyErr_Occurred()) return result;
    }
    return call_slow(op, self, args, nargs, kwnames);
}

/* ---- filter and map: a new SimdList ------------------------------------ */

/* A new uninitialised 1-d array of n elements of store (length: n as an int). */
static PyObject *new_array(int store, Py_ssize_t n, PyObject *length) {
    if (new_from_descr != NULL) {
        Py_INCREF(dtype_of[store]);  /* PyArray_NewFromDescr steals it */
        return new_from_descr(ndarray_type, dtype_of[store], 1, &n, NULL, NULL, 0, NULL);
    }
    PyObject *call[2] = {length, dtype_of[store]};
    return PyObject_Vectorcall(np_empty, call, 2, NULL);
}

/* A new SimdList holding n elements of store, as SimdList._from_array builds one; its
 * storage is opened in *out (writable) for the caller to fill, then close_storage. */
static PyObject *new_simdlist(int store, Py_ssize_t n, Storage *out) {
    PyObject *length = PyLong_FromSsize_t(n);
    if (length == NULL) return NULL;
    PyObject *buf = new_array(store, n, length);
    if (buf == NULL || !open_array(buf, store, n, PyBUF_WRITABLE, out)) {
        if (buf != NULL && !PyErr_Occurred())
            PyErr_SetString(PyExc_SystemError, "SimdList: numpy.empty gave no writable int64/float64 storage");
        Py_XDECREF(buf);
        Py_DECREF(length);
        return NULL;
    }
    PyObject *made = simdlist_type->tp_alloc(simdlist_type, 0);
    if (made == NULL) {
        close_storage(out);
        Py_DECREF(buf);
        Py_DECREF(length);
        return NULL;
    }
    PyObject *kind = store == STORE_INT64 ? kind_int64 : kind_float64;
    PyObject *version = PyLong_FromLong(0);  /* a cached small int: cannot fail */
    Py_INCREF(kind);
    Py_INCREF(Py_None);
    Py_INCREF(Py_None);
    *(PyObject **)((char *)made + off_kind) = kind;
    *(PyObject **)((char *)made + off_buf) = buf;
    *(PyObject **)((char *)made + off_len) = length;
    *(PyObject **)((char *)made + off_items) = Py_None;
    *(PyObject **)((char *)made + off_view) = Py_None;
    *(PyObject **)((char *)made + off_version) = version;
    return made;
}

/* "<" "<=" "==" "!=" ">" ">=" -> 0..5, "+" "-" "*" "/" -> 0..3 (the ops done here); -1: other. */
static int op_code(PyObject *op, int arithmetic) {
    if (!PyUnicode_CheckExact(op) || !PyUnicode_IS_ASCII(op)) return -1;
    Py_ssize_t len = PyUnicode_GET_LENGTH(op);
    const char *c = (const char *)PyUnicode_1BYTE_DATA(op);
    if (arithmetic) {
        if (len != 1) return -1;
        switch (c[0]) {
        case '+': return 0;
        case '-': return 1;
        case '*': return 2;
        case '/': return 3;
        default: return -1;
        }
    }
    int equals = len == 2 && c[1] == '=';
    if (len == 1 && c[0] == '<') return 0;
    if (equals && c[0] == '<') return 1;
    if (equals && c[0] == '=') return 2;
    if (equals && c[0] == '!') return 3;
    if (len == 1 && c[0] == '>') return 4;
    if (equals && c[0] == '>') return 5;
    return -1;
}

/* An exact int that fits int64 (1, in *v), else 0 with no error set. */
static int small_int(PyObject *value, int64_t *v) {
    int overflow = 0;
    if (!PyLong_CheckExact(value)) return 0;
    long long got = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (got == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *v = got;
    return 1;
}

#define EXACT_DOUBLE_INT ((int64_t)1 << 53)  /* ints up to this convert to double exactly */

/* The filter operand as a double for float64 storage: an exact float, or an exact int that a
 * double holds exactly (Python compares float with int exactly).  0: the Python path. */
static int float_operand(PyObject *value, double *v) {
    int64_t i;
    if (PyFloat_CheckExact(value)) { *v = PyFloat_AS_DOUBLE(value); return 1; }
    if (small_int(value, &i) && i >= -EXACT_DOUBLE_INT && i <= EXACT_DOUBLE_INT) { *v = (double)i; return 1; }
    return 0;
}

/* How many i have a[i] <op> v (count: out NULL), or their positions into out, which has room
 * for exactly that many.  Branch-free (a compare adds 0 or 1), one loop per operator: on
 * random data a branch per element mispredicts half the time. */
#define SCAN(a, n, v, out, k, test) \
    if (out == NULL) { \
        for (Py_ssize_t i = 0; i < (n); i++) k += (a[i] test v); \
    } else { \
        Py_ssize_t room = k; \
        k = 0; \
        for (Py_ssize_t i = 0; k < room; i++) { out[k] = i; k += (a[i] test v); } \
    }
#define SCAN_ANY(a, n, v, out, k, op) \
    switch (op) { \
    case 0: SCAN(a, n, v, out, k, <) break; \
    case 1: SCAN(a, n, v, out, k, <=) break; \
    case 2: SCAN(a, n, v, out, k, ==) break; \
    case 3: SCAN(a, n, v, out, k, !=) break; \
    case 4: SCAN(a, n, v, out, k, >) break; \
    default: SCAN(a, n, v, out, k, >=) break; \
    }

static Py_ssize_t matches(const Storage *st, int op, int64_t vi, double vf, int64_t *out, Py_ssize_t room) {
    Py_ssize_t k = out == NULL ? 0 : room;
    if (st->store == STORE_INT64) {
        const int64_t *a = st->data;
        SCAN_ANY(a, st->n, vi, out, k, op)
    } else {
        const double *a = st->data;
        SCAN_ANY(a, st->n, vf, out, k, op)
    }
    return k;
}

/* filter(op, value, *, indices=False) on open storage; NULL with no error: the Python path. */
static PyObject *filter_here(const Storage *st, int op, PyObject *value, int indices) {
    int64_t vi = 0;
    double vf = 0.0;
    if (st->store == STORE_INT64 ? !small_int(value, &vi) : !float_operand(value, &vf)) return NULL;
    Py_ssize_t found = matches(st, op, vi, vf, NULL, 0);
    Storage out;
    PyObject *made = new_simdlist(indices ? STORE_INT64 : st->store, found, &out);
    if (made == NULL) return NULL;
    int64_t *at = out.data;
    matches(st, op, vi, vf, at, found);
    if (!indices) {  /* the elements themselves: 8-byte copies, whatever their type */
        const int64_t *a = st->data;
        for (Py_ssize_t i = 0; i < found; i++) at[i] = a[at[i]];
    }
    close_storage(&out);
    return made;
}

/* x <op> v for int64 storage and an int64 v, as Python computes it; 0 on overflow, a zero
 * divisor or an int quotient a double cannot hold exactly (the Python path decides those). */
static int map_i64(const int64_t *a, Py_ssize_t n, int op, int64_t v, void *out) {
    if (op == 3) {  /* int / int: correctly rounded; exact as a double division while both fit 2**53 */
        if (v == 0 || v < -EXACT_DOUBLE_INT || v > EXACT_DOUBLE_INT) return 0;
        for (Py_ssize_t i = 0; i < n; i++)
            if (a[i] < -EXACT_DOUBLE_INT || a[i] > EXACT_DOUBLE_INT) return 0;
        for (Py_ssize_t i = 0; i < n; i++) ((double *)out)[i] = (double)a[i] / (double)v;
        return 1;
    }
    int64_t *r = out;
    for (Py_ssize_t i = 0; i < n; i++) {
        int bad = op == 0 ? __builtin_add_overflow(a[i], v, &r[i])
                : op == 1 ? __builtin_sub_overflow(a[i], v, &r[i]) : __builtin_mul_overflow(a[i], v, &r[i]);
        if (bad) return 0;
    }
    return 1;
}

/* x <op> v in doubles: what Python's float operators give (a zero divisor: Python raises). */
static int map_f64(const Storage *st, int op, double v, double *out) {
    if (op == 3 && v == 0.0) return 0;
    for (Py_ssize_t i = 0; i < st->n; i++) {
        double x = st->store == STORE_INT64 ? (double)((const int64_t *)st->data)[i]
                                            : ((const double *)st->data)[i];
        out[i] = op == 0 ? x + v : op == 1 ? x - v : op == 2 ? x * v : x / v;
    }
    return 1;
}

/* map(op, value) on open storage; NULL with no error: the Python path. */
static PyObject *map_here(const Storage *st, int op, PyObject *value) {
    int64_t vi = 0;
    double vf = 0.0;
    int store;  /* the result's */
    if (st->store == STORE_INT64 && small_int(value, &vi)) store = op == 3 ? STORE_FLOAT64 : STORE_INT64;
    else if (PyFloat_CheckExact(value)) { vf = PyFloat_AS_DOUBLE(value); store = STORE_FLOAT64; }
    else if (st->store == STORE_FLOAT64 && small_int(value, &vi)) { vf = (double)vi; store = STORE_FLOAT64; }
    else return NULL;  /* float(int) of an int64 rounds as Python's int-to-float conversion does */
    int integral = st->store == STORE_INT64 && PyLong_CheckExact(value);
    Storage out;
    PyObject *made = new_simdlist(store, st->n, &out);
    if (made == NULL) return NULL;
    int done = integral ? map_i64(st->data, st->n, op, vi, out.data) : map_f64(st, op, vf, out.data);
    close_storage(&out);
    if (!done) Py_CLEAR(made);
    return made;
}

/* The one keyword filter takes: indices=True/False (anything else: the Python path). */
static int indices_flag(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    if (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0) return 0;
    if (PyTuple_GET_SIZE(kwnames) != 1
            || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "indices") != 0)
        return -1;
    PyObject *flag = args[nargs];
    return flag == Py_True ? 1 : flag == Py_False ? 0 : -1;
}

static PyObject *run_new(int op, PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    int indices = op == OP_FILTER ? indices_flag(args, nargs, kwnames) : kwnames == NULL ? 0 : -1;
    int code = nargs == 2 && indices >= 0 ? op_code(args[0], op == OP_MAP) : -1;
    Storage st;
    if (code >= 0 && open_storage(self, op, &st)) {
        PyObject *result = op == OP_FILTER ? filter_here(&st, code, args[1], indices) : map_here(&st, code, args[1]);
        close_storage(&st);
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

static PyObject *method_OP_FILTER(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return run_new(OP_FILTER, self, args, nargs, kwnames);
}

static PyObject *method_OP_MAP(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return run_new(OP_MAP, self, args, nargs, kwnames);
}

static PyMethodDef method_defs[OPS] = {
    {"sum", (PyCFunction)(void (*)(void))method_OP_SUM, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"min", (PyCFunction)(void (*)(void))method_OP_MIN, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"max", (PyCFunction)(void (*)(void))method_OP_MAX, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"index", (PyCFunction)(void (*)(void))method_OP_INDEX, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"count", (PyCFunction)(void (*)(void))method_OP_COUNT, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"filter", (PyCFunction)(void (*)(void))method_OP_FILTER, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"map", (PyCFunction)(void (*)(void))method_OP_MAP, METH_FASTCALL | METH_KEYWORDS, NULL},
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

/* Whether NumPy's arrays have the ArrayHead layout: a fresh 4-element int64 array and a
 * strided view of it must show, through their fields, what the buffer protocol says. */
static int probe_layout(void) {
    PyObject *four = PyLong_FromLong(4), *step = PyLong_FromLong(2);
    PyObject *call[2] = {four, dtype_of[STORE_INT64]};
    PyObject *array = four == NULL ? NULL : PyObject_Vectorcall(np_empty, call, 2, NULL);
    PyObject *every = step == NULL ? NULL : PySlice_New(NULL, NULL, step);
    PyObject *strided = array == NULL || every == NULL ? NULL : PyObject_GetItem(array, every);
    Py_XDECREF(four);
    Py_XDECREF(step);
    Py_XDECREF(every);
    if (strided == NULL) {
        Py_XDECREF(array);
        return -1;
    }
    Py_buffer view;
    layout_ok = 0;
    if (PyObject_GetBuffer(array, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) == 0) {
        const ArrayHead *whole = (const ArrayHead *)array, *part = (const ArrayHead *)strided;
        layout_ok = whole->data == view.buf && whole->nd == 1 && whole->dimensions[0] == 4
                    && whole->strides[0] == 8 && whole->descr == dtype_of[STORE_INT64]
                    && (whole->flags & (ARRAY_C_CONTIGUOUS | ARRAY_WRITEABLE)) == (ARRAY_C_CONTIGUOUS | ARRAY_WRITEABLE)
                    && part->data == view.buf && part->nd == 1 && part->dimensions[0] == 2
                    && part->strides[0] == 16 && (part->flags & ARRAY_C_CONTIGUOUS) == 0;
        PyBuffer_Release(&view);
    }
    PyErr_Clear();
    ndarray_type = Py_TYPE(array);
    Py_INCREF(ndarray_type);
    Py_DECREF(strided);
    Py_DECREF(array);
    return 0;
}

/* new_from_descr from NumPy's C-API capsule, if it is what it must be (see new_from_descr). */
static void probe_api(PyObject *capsule) {
    new_from_descr = NULL;
    if (capsule == Py_None || !PyCapsule_CheckExact(capsule)) return;
    void **table = PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
    if (table == NULL) {
        PyErr_Clear();
        return;
    }
    unsigned int abi = ((unsigned int (*)(void))table[API_ABI_VERSION])();
    if ((abi != 0x01000009 && abi != 0x02000000) || table[API_ARRAY_TYPE] != (void *)ndarray_type) return;
    NewFromDescr made_by = (NewFromDescr)table[API_NEW_FROM_DESCR];
    Py_ssize_t four = 4;
    Py_INCREF(dtype_of[STORE_INT64]);
    PyObject *probe = made_by(ndarray_type, dtype_of[STORE_INT64], 1, &four, NULL, NULL, 0, NULL);
    Py_buffer view;
    if (probe != NULL && PyObject_GetBuffer(probe, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE | PyBUF_FORMAT) == 0) {
        if (Py_TYPE(probe) == ndarray_type && view.len == 32 && view.itemsize == 8 && format_is(&view, STORE_INT64))
            new_from_descr = made_by;
        PyBuffer_Release(&view);
    }
    PyErr_Clear();
    Py_XDECREF(probe);
}

/* install(cls, pure: dict name -> function, docs: dict name -> str, empty, int64, float64, api)
 *   -> dict name -> descriptor; empty(n, dtype) makes a storage array (numpy.empty), api is
 *   NumPy's _ARRAY_API capsule or None. */
static PyObject *install(PyObject *module, PyObject *args) {
    PyTypeObject *cls;
    PyObject *pure, *doc_of, *empty, *int64, *float64, *api;
    if (!PyArg_ParseTuple(args, "O!O!O!OOOO:install", &PyType_Type, &cls, &PyDict_Type, &pure, &PyDict_Type, &doc_of,
                          &empty, &int64, &float64, &api))
        return NULL;
    if (!PyCallable_Check(empty)) {
        PyErr_SetString(PyExc_TypeError, "install: empty must be callable (numpy.empty)");
        return NULL;
    }
    if (simdlist_type != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "install: SimdList's methods are installed once");
        return NULL;
    }
    if ((off_kind = slot_offset(cls, "_kind")) < 0 || (off_buf = slot_offset(cls, "_buf")) < 0
            || (off_len = slot_offset(cls, "_len")) < 0 || (off_items = slot_offset(cls, "_items")) < 0
            || (off_view = slot_offset(cls, "_view")) < 0 || (off_version = slot_offset(cls, "_version")) < 0)
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
    Py_INCREF(empty);
    Py_INCREF(int64);
    Py_INCREF(float64);
    np_empty = empty;
    dtype_of[STORE_INT64] = int64;
    dtype_of[STORE_FLOAT64] = float64;
    if (probe_layout() < 0) {
        Py_DECREF(installed);
        return NULL;
    }
    probe_api(api);
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

static PyObject *fields_read(PyObject *module, PyObject *unused) {
    return PyBool_FromLong(layout_ok);
}

static PyObject *numpy_api(PyObject *module, PyObject *unused) {
    return PyBool_FromLong(new_from_descr != NULL);
}

static PyMethodDef module_functions[] = {
    {"fields_read", fields_read, METH_NOARGS, "fields_read(): whether storage is read from NumPy's array fields "
     "(the install probe found their layout) rather than through the buffer protocol."},
    {"numpy_api", numpy_api, METH_NOARGS, "numpy_api(): whether new storage comes from NumPy's PyArray_NewFromDescr "
     "(its C-API capsule passed the install probe) rather than numpy.empty."},
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
