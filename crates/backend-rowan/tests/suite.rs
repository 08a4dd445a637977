//! The green layer's tests on both rowan rows (see `backend_green::suite`).

backend_green::suite!(backend_rowan::Rowan, backend_rowan::RowanSharedCache);
