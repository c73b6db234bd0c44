/* irr._speedups: the optional compiled packer of irr.xirr_many.
 *
 * pack_flows(series, days, amounts) walks a list of series of (date, amount) flows once
 * and writes each flow's day number (date.toordinal()) into ``days`` and its amount as
 * float (float(amount)) into ``amounts``: two writable C-contiguous buffers of 8-byte
 * items, sized to the number of flows. It returns True when every flow was read; False
 * when anything is out of the ordinary (a flow that is not subscriptable, a date that is
 * not a date, an amount float() refuses, a count that does not match the buffers), and
 * then the caller reads the batch with the pure-Python packer, which decides what is
 * wrong. So the two packers give the same arrays or the same error, by construction.
 *
 * Why it exists: reading 145,000 Python objects costs the pure-Python packer about 140 ns
 * a flow, more than pyxirr spends on a whole series. Here a date's ordinal comes from its
 * fields (the datetime C API) and an exact Decimal becomes a float through its string:
 * plain "-12345.67" digits are read into an integer m and a count k of decimals, and when
 * m <= 2**53 and k <= 22 both m and 10**k are exact doubles, so m / 10**k is the correctly
 * rounded value (Clinger's fast path): the same double float() gives, which parses the
 * same string with correct rounding. Anything else (an exponent, NaN, more digits) goes
 * through float() itself. Only the public CPython API is used.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <float.h>
#include <stdint.h>

/* The fast path needs m / 10**k rounded to double once, as on every 64-bit target (SSE2).
 * Where intermediate results keep extended precision (x87), every Decimal takes float(). */
#if defined(FLT_EVAL_METHOD) && (FLT_EVAL_METHOD < 0 || FLT_EVAL_METHOD > 1)
#define HAS_DOUBLE_ROUNDING 1
#else
#define HAS_DOUBLE_ROUNDING 0
#endif

static PyObject *decimal_type; /* decimal.Decimal; only the exact type takes the string path */
static PyObject *index_zero, *index_one;

static const double POWERS_OF_TEN[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
#define MAX_EXACT_POWER 22
#define MAX_EXACT_INTEGER 9007199254740992ULL /* 2**53 */

static const int DAYS_BEFORE_MONTH[] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

/* date.toordinal(): 1 January of year 1 is day 1 (CPython's ymd_to_ord). */
static int64_t
ordinal(int year, int month, int day)
{
    int64_t previous = year - 1;
    int is_leap = (year % 4 == 0) && (year % 100 != 0 || year % 400 == 0);
    return previous * 365 + previous / 4 - previous / 100 + previous / 400 +
           DAYS_BEFORE_MONTH[month] + (month > 2 && is_leap) + day;
}

/* A decimal string without exponent ("-12345.67") as the correctly rounded double, when
 * the fast path is exact. Returns 1 and sets *value, or 0 when the caller must parse. */
static int
parse_plain_decimal(const char *text, Py_ssize_t size, double *value)
{
    const char *end = text + size;
    int is_negative = 0, has_digit = 0, decimals = -1, digits = 0;
    uint64_t mantissa = 0;

    if (text < end && *text == '-') {
        is_negative = 1;
        text++;
    }
    for (; text < end; text++) {
        char character = *text;
        if (character >= '0' && character <= '9') {
            has_digit = 1;
            if (mantissa || character != '0') {
                if (++digits > 16) {
                    return 0;
                }
                mantissa = mantissa * 10 + (uint64_t)(character - '0');
            }
            if (decimals >= 0) {
                decimals++;
            }
        }
        else if (character == '.' && decimals < 0) {
            decimals = 0;
        }
        else {
            return 0; /* an exponent, NaN, Infinity, or anything unexpected */
        }
    }
    if (!has_digit) {
        return 0;
    }
    if (decimals < 0) {
        decimals = 0;
    }
    if (HAS_DOUBLE_ROUNDING || mantissa > MAX_EXACT_INTEGER || decimals > MAX_EXACT_POWER) {
        return 0;
    }
    *value = (double)mantissa / POWERS_OF_TEN[decimals];
    if (is_negative) {
        *value = -*value;
    }
    return 1;
}

/* float(amount), quicker for exact Decimals. Returns 0, or -1 with an exception set. */
static int
amount_as_double(PyObject *amount, double *value)
{
    if (PyFloat_CheckExact(amount)) {
        *value = PyFloat_AS_DOUBLE(amount);
        return 0;
    }
    if ((PyObject *)Py_TYPE(amount) == decimal_type) {
        PyObject *text = PyObject_Str(amount);
        if (text == NULL) {
            return -1;
        }
        Py_ssize_t size;
        const char *characters = PyUnicode_AsUTF8AndSize(text, &size);
        int is_parsed = characters != NULL && parse_plain_decimal(characters, size, value);
        Py_DECREF(text);
        if (is_parsed) {
            return 0;
        }
        PyErr_Clear();
    }
    PyObject *number = PyNumber_Float(amount); /* what float(amount) does */
    if (number == NULL) {
        return -1;
    }
    *value = PyFloat_AS_DOUBLE(number);
    Py_DECREF(number);
    return 0;
}

/* One flow into the buffers. Returns 0, or -1 with an exception set. */
static int
read_flow(PyObject *flow, int64_t *day, double *amount)
{
    PyObject *date, *value;
    if (PyTuple_CheckExact(flow) && PyTuple_GET_SIZE(flow) >= 2) {
        date = PyTuple_GET_ITEM(flow, 0);
        value = PyTuple_GET_ITEM(flow, 1);
        Py_INCREF(date);
        Py_INCREF(value);
    }
    else { /* what operator.itemgetter(0) and (1) do */
        date = PyObject_GetItem(flow, index_zero);
        if (date == NULL) {
            return -1;
        }
        value = PyObject_GetItem(flow, index_one);
        if (value == NULL) {
            Py_DECREF(date);
            return -1;
        }
    }
    int result = -1;
    if (PyDate_Check(date)) { /* a date or a datetime, as date.toordinal accepts */
        *day = ordinal(PyDateTime_GET_YEAR(date), PyDateTime_GET_MONTH(date),
                       PyDateTime_GET_DAY(date));
        result = amount_as_double(value, amount);
    }
    else {
        PyErr_SetString(PyExc_TypeError, "not a date");
    }
    Py_DECREF(date);
    Py_DECREF(value);
    return result;
}

/* Every flow of one series; returns the count read, or -1 with an exception set. */
static Py_ssize_t
read_series(PyObject *flows, int64_t *days, double *amounts, Py_ssize_t room)
{
    Py_ssize_t count = 0;
    if (PyList_CheckExact(flows) || PyTuple_CheckExact(flows)) {
        /* Indexed afresh each time: an amount's __float__ may change a list. */
        for (Py_ssize_t index = 0; index < PySequence_Fast_GET_SIZE(flows); index++) {
            if (count == room) {
                PyErr_SetString(PyExc_ValueError, "more flows than the buffers hold");
                return -1;
            }
            PyObject *flow = PySequence_Fast_GET_ITEM(flows, index);
            Py_INCREF(flow);
            int result = read_flow(flow, days + count, amounts + count);
            Py_DECREF(flow);
            if (result < 0) {
                return -1;
            }
            count++;
        }
        return count;
    }
    PyObject *iterator = PyObject_GetIter(flows); /* what itertools.chain does */
    if (iterator == NULL) {
        return -1;
    }
    PyObject *flow;
    while ((flow = PyIter_Next(iterator)) != NULL) {
        int result = -1;
        if (count < room) {
            result = read_flow(flow, days + count, amounts + count);
        }
        else {
            PyErr_SetString(PyExc_ValueError, "more flows than the buffers hold");
        }
        Py_DECREF(flow);
        if (result < 0) {
            Py_DECREF(iterator);
            return -1;
        }
        count++;
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() ? -1 : count;
}

static int
writable_buffer(PyObject *object, Py_buffer *view, const char *formats, const char *name)
{
    if (PyObject_GetBuffer(object, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return -1;
    }
    const char *format = view->format ? view->format : "B";
    if (*format == '<' || *format == '=' || *format == '@') {
        format++;
    }
    if (view->itemsize != 8 || strlen(format) != 1 || strchr(formats, *format) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s must be a buffer of 8-byte items of type '%s'",
                     name, formats);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(pack_flows_doc,
"pack_flows(series, days, amounts, /) -> bool\n\n"
"Write every flow's date.toordinal() into days (int64) and float(amount) into amounts\n"
"(float64), series after series (series must be a list). False when anything is out of\n"
"the ordinary or the flows do not fill the buffers exactly: then read them in Python.");

static PyObject *
pack_flows(PyObject *module, PyObject *const *arguments, Py_ssize_t count)
{
    if (count != 3) {
        PyErr_SetString(PyExc_TypeError, "pack_flows takes exactly 3 arguments");
        return NULL;
    }
    PyObject *series = arguments[0];
    Py_buffer days, amounts;
    if (writable_buffer(arguments[1], &days, "lq", "days") < 0) {
        return NULL;
    }
    if (writable_buffer(arguments[2], &amounts, "d", "amounts") < 0) {
        PyBuffer_Release(&days);
        return NULL;
    }
    Py_ssize_t room = days.len / 8, written = 0;
    /* A list subclass may iterate its own way: left to Python, like any other sequence. */
    int is_packed = PyList_CheckExact(series) && amounts.len / 8 == room;
    for (Py_ssize_t index = 0; is_packed && index < PyList_GET_SIZE(series); index++) {
        PyObject *flows = PyList_GET_ITEM(series, index);
        Py_INCREF(flows);
        Py_ssize_t read = read_series(flows, (int64_t *)days.buf + written,
                                      (double *)amounts.buf + written, room - written);
        Py_DECREF(flows);
        if (read < 0) {
            /* Leave the error to the pure-Python packer; never swallow an interrupt. */
            if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                PyBuffer_Release(&days);
                PyBuffer_Release(&amounts);
                return NULL;
            }
            PyErr_Clear();
            is_packed = 0;
        }
        else {
            written += read;
        }
    }
    PyBuffer_Release(&days);
    PyBuffer_Release(&amounts);
    return PyBool_FromLong(is_packed && written == room);
}

static PyMethodDef methods[] = {
    {"pack_flows", (PyCFunction)(void (*)(void))pack_flows, METH_FASTCALL, pack_flows_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_definition = {
    PyModuleDef_HEAD_INIT, "irr._speedups",
    "The optional compiled packer of irr.xirr_many (see irr/_speedups.c).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return NULL;
    }
    PyObject *decimal = PyImport_ImportModule("decimal");
    if (decimal == NULL) {
        return NULL;
    }
    decimal_type = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    index_zero = PyLong_FromLong(0);
    index_one = PyLong_FromLong(1);
    if (decimal_type == NULL || index_zero == NULL || index_one == NULL) {
        return NULL;
    }
    return PyModule_Create(&module_definition);
}
