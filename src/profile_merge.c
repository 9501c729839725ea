/*
 * profile_merge.c
 *	  Merging profiles: metadata rules and tree-into-tree addition.
 */
#include "profile_merge.h"

#include <string.h>

/* Fold from's metadata into into's (see profile_merge.h). */
void
profile_meta_merge(ProfileMeta *into, const ProfileMeta *from, bool into_empty,
				   const char *operation)
{
	if (into_empty)
	{
		*into = *from;
		into->sample_type = pp_strndup(from->sample_type, strlen(from->sample_type));
		into->sample_unit = pp_strndup(from->sample_unit, strlen(from->sample_unit));
		into->period_type = pp_strndup(from->period_type, strlen(from->period_type));
		into->period_unit = pp_strndup(from->period_unit, strlen(from->period_unit));
		return;
	}
	if (strcmp(into->sample_type, from->sample_type) != 0 ||
		strcmp(into->sample_unit, from->sample_unit) != 0)
		pp_error(PP_ERR_MISMATCH, "Use profiles of one sample type and unit.",
				 "cannot %s profiles of sample type %s/%s and %s/%s", operation,
				 into->sample_type, into->sample_unit, from->sample_type, from->sample_unit);
	if (from->start_ns != 0 && (into->start_ns == 0 || from->start_ns < into->start_ns))
		into->start_ns = from->start_ns;
	if (from->end_ns > into->end_ns)
		into->end_ns = from->end_ns;
	into->duration_ns = pp_add_int64(into->duration_ns, from->duration_ns);
	into->profile_count = pp_add_int64(into->profile_count, from->profile_count);
	if (from->period > into->period)
		into->period = from->period;
	if (into->period_type[0] == '\0' && from->period_type[0] != '\0')
	{
		into->period_type = pp_strndup(from->period_type, strlen(from->period_type));
		into->period_unit = pp_strndup(from->period_unit, strlen(from->period_unit));
	}
}

/* Add every node of src into dst (or into right_self, for diffs). */
void
calltree_add_tree(CallTree *dst, const CallTree *src, int64_t *right_self)
{
	const StringInterner *names = &src->symbols->names;
	const SymbolTable *src_syms = src->symbols;
	uint32_t   *sym_map = pp_alloc_array(names->count ? names->count : 1, sizeof(uint32_t));
	uint32_t   *node_map = pp_alloc_array(src->count, sizeof(uint32_t));

	for (uint32_t s = 0; s < names->count; s++)
	{
		uint32_t	f = src_syms->file_of[s];

		sym_map[s] = symtab_intern(dst->symbols, names->strings[s], names->lengths[s],
								   f ? src_syms->files.strings[f - 1] : NULL,
								   f ? src_syms->files.lengths[f - 1] : 0);
	}
	calltree_reserve(dst, src->count);
	/* Parents are created before their children, so one forward pass works. */
	node_map[CALLTREE_ROOT] = CALLTREE_ROOT;
	for (uint32_t n = 0; n < src->count; n++)
	{
		const CallTreeNode *node = &src->nodes[n];
		uint32_t	d = n == CALLTREE_ROOT ? CALLTREE_ROOT
			: calltree_child(dst, node_map[node->parent], sym_map[node->symbol]);

		node_map[n] = d;
		if (node->self != 0)
		{
			if (right_self)
				right_self[d] = pp_add_int64(right_self[d], node->self);
			else
				dst->nodes[d].self = pp_add_int64(dst->nodes[d].self, node->self);
		}
		if ((n & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(sym_map);
	pp_free(node_map);
}
