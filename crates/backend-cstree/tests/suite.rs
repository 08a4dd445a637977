//! The green layer's tests on both cstree rows (see `backend_green::suite`).

backend_green::suite!(backend_cstree::Cstree, backend_cstree::CstreeShared);
