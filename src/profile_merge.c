/*
 * profile_merge.c
 *	  Merging profiles: adding one tree into another, and a running merge of
 *	  stored values, which the profile_merge aggregate wraps.
 */
#include "profile_merge.h"

/* Add every node of src into dst (or into right_self, for diffs). */
void
profile_merge_tree(CallTree *dst, const CallTree *src, int64_t *right_self, uint32_t *src_map)
{
	const StringInterner *names = &src->symbols->names;
	const SymbolTable *src_syms = src->symbols;
	uint32_t   *sym_map = pp_alloc_array(names->count ? names->count : 1, sizeof(uint32_t));
	uint32_t   *node_map = src_map ? src_map : pp_alloc_array(src->count, sizeof(uint32_t));

	for (uint32_t s = 0; s < names->count; s++)
	{
		uint32_t	f = src_syms->file_of[s];

		sym_map[s] = symtab_intern(dst->symbols, names->strings[s], names->lengths[s],
								   f ? src_syms->files.strings[f - 1] : NULL,
								   f ? src_syms->files.lengths[f - 1] : 0);
		if ((s & 0xfff) == 0xfff)
			pp_check_interrupts();
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
	if (node_map != src_map)
		pp_free(node_map);
}

/* Start an empty merge. */
void
profile_merger_init(ProfileMerger *merger)
{
	memset(merger, 0, sizeof(*merger));
	symtab_init(&merger->symbols);
	merger->tree = calltree_create(&merger->symbols);
	merger->empty = true;
}

/* Decode stored bytes straight into the merge (see profile_merge.h). */
void
profile_merger_add_stored(ProfileMerger *merger, const uint8_t *data, size_t len,
						  const ProfileLimits *limits)
{
	ProfileView view;

	profile_decode_into_tree(data, len, limits, &view, merger->tree, &merger->names_seen, NULL);
	profile_meta_merge(&merger->tree->meta, &view.meta, merger->empty, "merge");
	merger->empty = false;
	profile_view_free(&view);
}

/* Fold another merge into this one. */
void
profile_merger_add_merger(ProfileMerger *merger, const ProfileMerger *other)
{
	if (other->empty)
		return;
	profile_meta_merge(&merger->tree->meta, &other->tree->meta, merger->empty, "merge");
	profile_merge_tree(merger->tree, other->tree, NULL, NULL);
	merger->empty = false;
}

/* Check the merge's tree; for assertion builds. */
void
profile_merger_check(const ProfileMerger *merger)
{
	calltree_check_invariants(merger->tree);
	if (merger->empty && merger->tree->count != 1)
		pp_error(PP_ERR_INTERNAL, "an empty merge holds nodes");
}
