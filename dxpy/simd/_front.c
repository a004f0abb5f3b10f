/* dxpy.simd._front: the string functions' entry points, in C.
 *
 * Why C: below its measured crossover a dxpy.simd string function must cost
 * what the builtin method costs, and a Python-level wrapper cannot -- its
 * own frame, a type test, a len() and a dict read are ~0.3 us, against a
 * 0.05-0.5 us builtin call on a small input.  A Front is one function (find,
 * lower, split, ...): called with an exact bytes, bytearray or str first
 * argument shorter than its limit, positional arguments only, it calls that
 * type's builtin method straight from the argument array (no tuple, no
 * bound method, no Python frame).  Anything else -- a longer input, a
 * memoryview, a subclass, keywords, a wrong argument count -- goes to the
 * pure-Python function (dxpy/simd/strings.py), which decides and raises
 * exactly as it does without this extension: the semantics never depend on
 * this file, only the cost of small calls does.
 *
 * Some fronts do their small work here instead of calling one method:
 * equal (a == b), count_lines (newlines, and a last unterminated line) and
 * find_all (every match offset, overlapping), which have no single builtin
 * method, on one-byte-per-character data only; and lower/upper of bytes,
 * bytearray and ASCII str, whose conversion loop here is branch-free (the
 * builtin's table lookup per byte is most of a small call's cost).
 *
 * Limits are set from Python (dxpy/simd/front.py) from the dispatcher's
 * crossovers, and set to 0 while an engine is forced, so forcing sends every
 * call to the Python path and its kernels.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

enum { KIND_BYTES, KIND_BYTEARRAY, KIND_STR, KINDS };
enum { SPECIAL_METHOD, SPECIAL_EQUAL, SPECIAL_COUNT_LINES, SPECIAL_FIND_ALL, SPECIAL_LOWER, SPECIAL_UPPER };

typedef struct {
    PyObject_HEAD
    PyObject *name;                 /* the method's name, e.g. "find" */
    PyObject *slow;                 /* the pure-Python function */
    PyObject *doc;                  /* the function's docstring (def.ml_doc points into it) */
    PyObject *methods[KINDS];       /* bytes.find, bytearray.find, str.find (NULL: none) */
    PyCFunction cfunc[KINDS];       /* the method's C function, called directly (NULL: vectorcall) */
    int flags[KINDS];               /* its calling convention (METH_NOARGS, METH_O, METH_FASTCALL...) */
    Py_ssize_t limit;               /* bytes/bytearray shorter than this: the builtin */
    Py_ssize_t str_limit;           /* str shorter than this: the builtin */
    Py_ssize_t min_args, max_args;  /* positional arguments the Python function takes */
    int special;
    PyMethodDef def;                /* the function object's definition (name, doc) */
} Front;

/* The kind of s and its length; -1 for anything that is not exactly one of them. */
static inline int kind_of(PyObject *s, Py_ssize_t *len) {
    PyTypeObject *type = Py_TYPE(s);
    if (type == &PyBytes_Type) { *len = PyBytes_GET_SIZE(s); return KIND_BYTES; }
    if (type == &PyUnicode_Type) { *len = PyUnicode_GET_LENGTH(s); return KIND_STR; }
    if (type == &PyByteArray_Type) { *len = PyByteArray_GET_SIZE(s); return KIND_BYTEARRAY; }
    return -1;
}

/* One byte per character: the data of a bytes, bytearray or latin-1 str; NULL otherwise. */
static inline const char *narrow_data(PyObject *s, int kind) {
    if (kind == KIND_BYTES) return PyBytes_AS_STRING(s);
    if (kind == KIND_BYTEARRAY) return PyByteArray_AS_STRING(s);
    if (kind == KIND_STR && PyUnicode_IS_READY(s) && PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND)
        return (const char *)PyUnicode_1BYTE_DATA(s);
    return NULL;
}

static PyObject *count_lines(const char *p, Py_ssize_t n) {
    Py_ssize_t lines = 0;
    const char *end = p + n, *at = p;
    while (at < end && (at = memchr(at, '\n', (size_t)(end - at))) != NULL) {
        lines++;
        at++;
    }
    return PyLong_FromSsize_t(lines + (n > 0 && p[n - 1] != '\n'));
}

static PyObject *find_all(const char *h, Py_ssize_t n, const char *needle, Py_ssize_t m) {
    PyObject *found = PyList_New(0);
    if (found == NULL) return NULL;
    for (Py_ssize_t at = 0; at + m <= n; at++) {
        if (m > 0) {
            const char *hit = memchr(h + at, needle[0], (size_t)(n - m + 1 - at));
            if (hit == NULL) break;
            at = hit - h;
            if (memcmp(hit, needle, (size_t)m) != 0) continue;
        }
        PyObject *offset = PyLong_FromSsize_t(at);
        if (offset == NULL || PyList_Append(found, offset) < 0) {
            Py_XDECREF(offset);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(offset);
    }
    return found;
}

/* ASCII case conversion of bytes, bytearray or an ASCII str, into a new object of
 * the same type: what their lower()/upper() return (bytes >= 0x80 never change). */
static PyObject *convert_case(PyObject *s, int kind, Py_ssize_t n, int to_lower) {
    PyObject *out;
    const unsigned char *src;
    unsigned char *dst;
    if (kind == KIND_STR) {
        if (!PyUnicode_IS_READY(s) || !PyUnicode_IS_ASCII(s)) return NULL;
        if ((out = PyUnicode_New(n, 127)) == NULL) return NULL;
        src = PyUnicode_1BYTE_DATA(s);
        dst = PyUnicode_1BYTE_DATA(out);
    } else {
        out = kind == KIND_BYTES ? PyBytes_FromStringAndSize(NULL, n) : PyByteArray_FromStringAndSize(NULL, n);
        if (out == NULL) return NULL;
        src = (const unsigned char *)narrow_data(s, kind);
        dst = (unsigned char *)(kind == KIND_BYTES ? PyBytes_AS_STRING(out) : PyByteArray_AS_STRING(out));
    }
    const unsigned char first = to_lower ? 'A' : 'a';
    for (Py_ssize_t i = 0; i < n; i++) {  /* branch-free: the compiler vectorises it */
        unsigned char c = src[i];
        dst[i] = c ^ (unsigned char)(((unsigned char)(c - first) < 26) << 5);
    }
    return out;
}

/* The small call done here, or NULL with no error set: not small, take the slow path. */
static PyObject *special_call(Front *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t n, m;
    int kind = kind_of(args[0], &n);
    if (kind < 0 || n >= (kind == KIND_STR ? self->str_limit : self->limit)) return NULL;
    if (self->special == SPECIAL_LOWER || self->special == SPECIAL_UPPER)
        return convert_case(args[0], kind, n, self->special == SPECIAL_LOWER);
    if (self->special == SPECIAL_EQUAL) {
        if (nargs != 2 || Py_TYPE(args[1]) != Py_TYPE(args[0])) return NULL;
        return PyObject_RichCompare(args[0], args[1], Py_EQ);
    }
    const char *data = narrow_data(args[0], kind);
    if (data == NULL) return NULL;
    if (self->special == SPECIAL_COUNT_LINES) return nargs == 1 ? count_lines(data, n) : NULL;
    if (nargs != 2 || kind_of(args[1], &m) < 0 || (kind == KIND_STR) != (Py_TYPE(args[1]) == &PyUnicode_Type))
        return NULL;
    const char *needle = narrow_data(args[1], kind_of(args[1], &m));
    if (needle == NULL || (kind != KIND_STR && Py_TYPE(args[1]) != &PyBytes_Type)) return NULL;
    return find_all(data, n, needle, m);
}

/* Everything the fast paths do not take: the pure-Python function, with the call as it came.
 * Out of line so that the fast paths keep no stack frame of their own. */
static __attribute__((noinline, cold)) PyObject *
slow_call(Front *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    return PyObject_Vectorcall(self->slow, args, (size_t)nargs, kwnames);
}

/* A METH_VARARGS method (3.11's find, count, startswith...): its arguments as a tuple, as
 * the method descriptor's own vectorcall would build it. */
static __attribute__((noinline)) PyObject *
call_varargs(PyCFunction cfunc, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *rest = PyTuple_New(nargs - 1);
    if (rest == NULL) return NULL;
    for (Py_ssize_t i = 1; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(rest, i - 1, args[i]);
    }
    PyObject *result = cfunc(args[0], rest);
    Py_DECREF(rest);
    return result;
}

/* The entry point of a plain method front.  The common case -- an exact bytes, str or
 * bytearray under the limit, positional arguments -- is a few compares and a jump into the
 * method's C function with the same argument array (what CPython's specialised method call
 * does); measured with callgrind, the old single entry point for every front (with the
 * special fronts' code inlined) spent 46 instructions and a 6-register frame per call here. */
static PyObject *front_call(PyObject *bound, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    Front *self = (Front *)bound;
    if (nargs < self->min_args || nargs > self->max_args || kwnames != NULL) goto slow;
    PyObject *s = args[0];
    PyTypeObject *type = Py_TYPE(s);
    int kind;
    if (type == &PyBytes_Type) {
        if (PyBytes_GET_SIZE(s) >= self->limit) goto slow;
        kind = KIND_BYTES;
    } else if (type == &PyUnicode_Type) {
        if (PyUnicode_GET_LENGTH(s) >= self->str_limit) goto slow;
        kind = KIND_STR;
    } else if (type == &PyByteArray_Type) {
        if (PyByteArray_GET_SIZE(s) >= self->limit) goto slow;
        kind = KIND_BYTEARRAY;
    } else {
        goto slow;
    }
    PyCFunction cfunc = self->cfunc[kind];
    switch (self->flags[kind]) {
    case METH_FASTCALL:
        return ((_PyCFunctionFast)(void (*)(void))cfunc)(s, args + 1, nargs - 1);
    case METH_FASTCALL | METH_KEYWORDS:
        return ((_PyCFunctionFastWithKeywords)(void (*)(void))cfunc)(s, args + 1, nargs - 1, NULL);
    case METH_NOARGS:
        if (nargs == 1) return cfunc(s, NULL);
        break;
    case METH_O:
        if (nargs == 2) return cfunc(s, args[1]);
        break;
    case METH_VARARGS:
        return call_varargs(cfunc, args, nargs);
    }
    if (self->methods[kind] != NULL) return PyObject_Vectorcall(self->methods[kind], args, (size_t)nargs, NULL);
slow:
    return slow_call(self, args, nargs, kwnames);
}

/* The entry point of the fronts that do their small work here (equal, count_lines,
 * find_all, lower, upper). */
static PyObject *front_special(PyObject *bound, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    Front *self = (Front *)bound;
    if (nargs >= self->min_args && nargs <= self->max_args && kwnames == NULL) {
        PyObject *done = special_call(self, args, nargs);
        if (done != NULL || PyErr_Occurred()) return done;
    }
    return slow_call(self, args, nargs, kwnames);
}

/* ---- the Front type ---------------------------------------------------- */
static PyTypeObject *const TYPES[KINDS] = {&PyBytes_Type, &PyByteArray_Type, &PyUnicode_Type};

static int front_init(Front *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"name", "slow", "min_args", "max_args", "special", "doc", NULL};
    PyObject *name, *slow, *doc = NULL;
    Py_ssize_t min_args, max_args;
    int special = SPECIAL_METHOD;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UOnn|iU:Front", keywords, &name, &slow, &min_args,
                                     &max_args, &special, &doc))
        return -1;
    if (!PyCallable_Check(slow) || min_args < 1 || max_args < min_args
            || special < SPECIAL_METHOD || special > SPECIAL_UPPER) {
        PyErr_SetString(PyExc_ValueError, "Front(name, slow, min_args, max_args, special): slow must be "
                        "callable, 1 <= min_args <= max_args, special one of the SPECIAL_* values");
        return -1;
    }
    if (self->name != NULL) {
        PyErr_SetString(PyExc_TypeError, "a Front is initialised once");
        return -1;
    }
    Py_INCREF(name);
    self->name = name;
    Py_INCREF(slow);
    self->slow = slow;
    Py_XINCREF(doc);
    self->doc = doc;
    self->min_args = min_args;
    self->max_args = max_args;
    self->special = special;
    self->limit = self->str_limit = 0;
    for (int kind = 0; kind < KINDS && special == SPECIAL_METHOD; kind++) {
        PyObject *method = PyObject_GetAttr((PyObject *)TYPES[kind], name);
        if (method == NULL) {
            PyErr_Clear();
            continue;
        }
        self->methods[kind] = method;
        if (Py_IS_TYPE(method, &PyMethodDescr_Type)) {
            PyMethodDef *def = ((PyMethodDescrObject *)method)->d_method;
            self->flags[kind] = def->ml_flags & (METH_NOARGS | METH_O | METH_VARARGS | METH_FASTCALL | METH_KEYWORDS);
            self->cfunc[kind] = def->ml_meth;  /* a convention not in front_call's switch: the descriptor */
        }
    }
    return 0;
}

static PyObject *front_function(Front *self, PyObject *module_name) {
    if (self->name == NULL) {
        PyErr_SetString(PyExc_TypeError, "Front not initialised");
        return NULL;
    }
    self->def.ml_name = PyUnicode_AsUTF8(self->name);
    if (self->def.ml_name == NULL) return NULL;
    self->def.ml_meth = (PyCFunction)(void (*)(void))(self->special == SPECIAL_METHOD ? front_call : front_special);
    self->def.ml_flags = METH_FASTCALL | METH_KEYWORDS;
    if (self->doc != NULL && (self->def.ml_doc = PyUnicode_AsUTF8(self->doc)) == NULL) return NULL;
    return PyCFunction_NewEx(&self->def, (PyObject *)self, module_name);
}

static int front_traverse(Front *self, visitproc visit, void *arg) {
    Py_VISIT(self->name);
    Py_VISIT(self->slow);
    Py_VISIT(self->doc);
    for (int kind = 0; kind < KINDS; kind++) Py_VISIT(self->methods[kind]);
    return 0;
}

static int front_clear(Front *self) {
    Py_CLEAR(self->name);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->doc);
    for (int kind = 0; kind < KINDS; kind++) {
        Py_CLEAR(self->methods[kind]);
        self->cfunc[kind] = NULL;
    }
    return 0;
}

static void front_dealloc(Front *self) {
    PyObject_GC_UnTrack(self);
    front_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *front_repr(Front *self) {
    return PyUnicode_FromFormat("<dxpy.simd front %R: builtin below %zd (str %zd), else %R>", self->name,
                                self->limit, self->str_limit, self->slow);
}

static PyMethodDef front_methods[] = {
    {"function", (PyCFunction)front_function, METH_O,
     "function(module_name): the callable users get (a builtin function named after the method)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef front_members[] = {
    {"limit", T_PYSSIZET, offsetof(Front, limit), 0, "bytes/bytearray inputs shorter than this call the builtin"},
    {"str_limit", T_PYSSIZET, offsetof(Front, str_limit), 0, "str inputs shorter than this call the builtin"},
    {"slow", T_OBJECT, offsetof(Front, slow), READONLY, "the pure-Python function for everything else"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dxpy.simd._front.Front",
    .tp_basicsize = sizeof(Front),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Front(name, slow, min_args, max_args, special=SPECIAL_METHOD, doc=None): one string function's entry point.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)front_init,
    .tp_dealloc = (destructor)front_dealloc,
    .tp_traverse = (traverseproc)front_traverse,
    .tp_clear = (inquiry)front_clear,
    .tp_repr = (reprfunc)front_repr,
    .tp_methods = front_methods,
    .tp_members = front_members,
};

static struct PyModuleDef front_module = {
    PyModuleDef_HEAD_INIT, "dxpy.simd._front",
    "C entry points for dxpy.simd's string functions (see dxpy/simd/front.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__front(void) {
    if (PyType_Ready(&FrontType) < 0) return NULL;
    PyObject *module = PyModule_Create(&front_module);
    if (module == NULL) return NULL;
    Py_INCREF(&FrontType);
    if (PyModule_AddObject(module, "Front", (PyObject *)&FrontType) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_METHOD", SPECIAL_METHOD) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_EQUAL", SPECIAL_EQUAL) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_COUNT_LINES", SPECIAL_COUNT_LINES) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_FIND_ALL", SPECIAL_FIND_ALL) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_LOWER", SPECIAL_LOWER) < 0
            || PyModule_AddIntConstant(module, "SPECIAL_UPPER", SPECIAL_UPPER) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
