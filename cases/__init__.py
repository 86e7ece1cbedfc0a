"""The case-file domain: cases, stages, activities, links, holds, retention, completeness, access, the read journal."""
