# Types for the compiled build of lists.py (see vermilion/compiled.py): the one-element LPUSH,
# RPUSH, LPOP and RPOP paths read the client's, the database's and the list's fields as struct
# fields. Arguments stay untyped objects (a script or MULTI hands its own argv lists).
cimport cython

from vermilion.connection cimport Client
from vermilion.keyspace.db cimport Db
from vermilion.types.list cimport ListValue


@cython.locals(db=Db, value=ListValue, size=Py_ssize_t, head=Py_ssize_t)
cpdef lpush(Client client, argv)

@cython.locals(db=Db, value=ListValue, size=Py_ssize_t, items=list)
cpdef rpush(Client client, argv)

@cython.locals(db=Db, value=ListValue)
cdef object _pop_one_fast(Client client, key, bint left)

cpdef lpop(Client client, argv)

cpdef rpop(Client client, argv)
