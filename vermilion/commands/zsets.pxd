# Types for the compiled build of zsets.py (see vermilion/compiled.py): the one-pair ZADD path
# reads the client's and the database's fields as struct fields.
cimport cython

from vermilion.connection cimport Client
from vermilion.keyspace.db cimport Db


@cython.locals(db=Db)
cpdef zadd(Client client, argv)
