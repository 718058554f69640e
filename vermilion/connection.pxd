# Types for the compiled build of connection.py (Cython's augmenting .pxd, see
# vermilion/compiled.py): Client becomes an extension type, so the lane reads and writes its
# fields directly instead of through attribute lookups, and the hottest calls inside the lane
# become C calls. The fields stay public: the rest of the server, plain Python, uses them as
# before. Fields keep Python object types (a flag may be set to any truthy value elsewhere)
# except the two lists the lane appends to.
import cython

from vermilion.registry cimport Command


cdef class Stats:
    cdef public object total_connections_received
    cdef public object total_commands_processed
    cdef public object rejected_connections
    cdef public object expired_keys
    cdef public object expired_stale_perc
    cdef public object expired_time_cap_reached_count
    cdef public object expire_cycle_cpu_milliseconds
    cdef public object evicted_keys
    cdef public object evicted_clients
    cdef public object keyspace_hits
    cdef public object keyspace_misses
    cdef public object total_error_replies
    cdef public object unexpected_error_replies
    cdef public object total_net_input_bytes
    cdef public object total_net_output_bytes
    cdef public object total_reads_processed
    cdef public object total_writes_processed
    cdef public object error_codes


cdef class Client:
    cdef public object server
    cdef public Stats stats
    cdef public object transport
    cdef public object reader
    cdef public object reader_idle
    cdef public list raw_pending
    cdef public object exact
    cdef public list out
    cdef public object id
    cdef public object name
    cdef public object lib_name
    cdef public object lib_ver
    cdef public object db
    cdef public object resp3
    cdef public object auth_required
    cdef public object user
    cdef public object acl_user
    cdef public object multi
    cdef public object multi_error
    cdef public object watch_dirty
    cdef public object watching
    cdef public object current_command
    cdef public object last_command
    cdef public object created
    cdef public object last_interaction
    cdef public object address
    cdef public object local_address
    cdef public object reply_mode
    cdef public object closing
    cdef public object paused
    cdef public object flags
    cdef public object kill_after_reply
    cdef public object fd
    cdef public object no_evict
    cdef public object no_touch
    cdef public object is_unix
    cdef public object gated
    cdef public object suspended
    cdef public object interrupted
    cdef public object blocked
    cdef public object flush_pending
    cdef public object subscriptions
    cdef public object watch_expired
    cdef public object write_blocked
    cdef public object reading_paused
    cdef public object obuf_soft_since
    cdef public object input_held

    @cython.locals(raw_pending=list, held=Py_ssize_t, stats=Stats)
    cpdef data_received(self, data)

    cdef _run_one(self, Command cmd, list argv)

    @cython.locals(cmd=Command, run_cmd=Command, out=list, batch=list, group=list, runs_timed=bint, run_calls=Py_ssize_t,
                   routed=Py_ssize_t, done=Py_ssize_t, group_start=Py_ssize_t, argc=Py_ssize_t)
    cdef _run_fast(self, first=*)


cdef object _close_run(Client client, Command cmd, calls, list argv, started, slow_ns)


@cython.locals(client=Client, stats=Stats, out=list, written=Py_ssize_t, writes=Py_ssize_t)
cpdef write_queued(list queue, Stats stats)
