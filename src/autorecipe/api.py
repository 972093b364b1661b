"""The one public Python API of autorecipe.

The CLI and the MCP server wrap these functions and add nothing of their own. Every
function takes plain values, returns pydantic models (``.model_dump(mode="json",
by_alias=True)`` gives the documented JSON) and raises ``autorecipe.errors.UserError``
for bad input.
"""

from __future__ import annotations

# --- index: list_recipes, show_recipe, load_index -------------------------------------

# --- catalog: model_info, gpu_info ------------------------------------------------------

# --- layout: plan, estimate -------------------------------------------------------------

# --- advice: recommend ------------------------------------------------------------------

# --- lint: check ------------------------------------------------------------------------
