"""Album-level jobs over the vectors: the map of the album (:mod:`.mapping`, laid out in
:mod:`.layout`, grouped in :mod:`.clusters`) and the photos that do not belong
(:mod:`.outliers`). Only :mod:`.layout` imports openTSNE: import :mod:`.mapping` lazily."""
