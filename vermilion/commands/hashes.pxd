# Types for the compiled build of hashes.py (see vermilion/compiled.py): the one-pair HSET path
# reads the client's and the database's fields and the hash's fields as struct fields.
cimport cython

from vermilion.connection cimport Client
from vermilion.keyspace.db cimport Db
from vermilion.types.hash cimport HashValue


@cython.locals(db=Db, value=HashValue, fields=dict)
cpdef hset(Client client, argv)
