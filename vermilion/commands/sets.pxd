# Types for the compiled build of sets.py (see vermilion/compiled.py): the one-member SADD path
# reads the client's and the database's fields and the set's members as struct fields.
cimport cython

from vermilion.connection cimport Client
from vermilion.keyspace.db cimport Db
from vermilion.types.set cimport RedisSet


@cython.locals(db=Db, existing=RedisSet)
cpdef sadd(Client client, argv)
