# Types for the compiled build of list.py (see vermilion/compiled.py): ListValue becomes an
# extension type, so LPUSH and LPOP in the compiled vermilion.commands.lists reach its item list
# and head index directly.

cdef class ListValue:
    cdef public list items
    cdef public Py_ssize_t head
    cdef public object fill
    cdef public object compress_depth
