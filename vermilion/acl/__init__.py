"""Users and permissions (Redis's ACL): rules and selectors (``user``), the command table the rules
talk about (``table``), permission checks (``check``), and the server's state: users,
authentication, the ACL log and the ACL file (``state``). The ACL command is in commands/acl.py.
"""

from .state import AclState

__all__ = ["AclState"]
