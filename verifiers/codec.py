"""The value codec of the Python sandbox: plain Python values to JSON data and back, exactly.

The sandbox sends arguments into a snippet and results out of it as JSON; this codec keeps what
JSON would lose (tuples vs lists, ints beyond 2**53, sets, bytes, ``-0.0``, NaN...) so that the
host compares returned values in value *and* type. Games that store or compare such values (the
ScholarsCircle library) use the same codec, so a value means the same thing everywhere.

It lives in the worker script, which runs inside the sandbox on its own (standard library only);
this module is its public name.

>>> decode_value(encode_value((1, [2], {3})))
(1, [2], {3})
"""

from __future__ import annotations

from langgames.verifiers._sandbox_worker import MAX_DEPTH, CodecError, decode_value, encode_value

__all__ = ["MAX_DEPTH", "CodecError", "decode_value", "encode_value"]
