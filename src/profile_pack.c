/*
 * profile_pack.c
 *	  Packing profiles of one series: their merge, and a timeline that keeps
 *	  each source's values under its time, so that nothing is lost.
 */
#include "profile_pack.h"

#include <stdlib.h>

/* Start an empty packing. */
void
profile_packer_init(ProfilePacker *packer)
{
	memset(packer, 0, sizeof(*packer));
	profile_merger_init(&packer->merger);
}

/* A new point at time with the numbers of meta and room for n entries. */
static PackPoint *
new_point(ProfilePacker *packer, int64_t time, const ProfileMeta *meta, uint32_t n)
{
	PackPoint  *p;

	if (packer->count == packer->capacity)
	{
		packer->capacity = packer->capacity ? packer->capacity * 2 : 16;
		packer->points = packer->points
			? pp_realloc(packer->points, pp_mul_size(packer->capacity, sizeof(PackPoint)))
			: pp_alloc_array(packer->capacity, sizeof(PackPoint));
	}
	p = &packer->points[packer->count++];
	memset(p, 0, sizeof(*p));
	p->time = time;
	p->meta.start_ns = meta->start_ns;
	p->meta.end_ns = meta->end_ns;
	p->meta.duration_ns = meta->duration_ns;
	p->meta.profile_count = meta->profile_count;
	p->meta.period = meta->period;
	p->capacity = n ? n : 1;
	p->node = pp_alloc_array(p->capacity, sizeof(uint32_t));
	p->value = pp_alloc_array(p->capacity, sizeof(int64_t));
	return p;
}

/* Add an entry to a point (its room was reserved). */
static inline void
add_entry(PackPoint *p, uint32_t node, int64_t value)
{
	p->node[p->count] = node;
	p->value[p->count] = value;
	p->count++;
}

/* Give back the room a point reserved but did not fill. */
static void
shrink_point(PackPoint *p)
{
	if (p->count == p->capacity || p->count == 0)
		return;
	p->node = pp_realloc(p->node, sizeof(uint32_t) * p->count);
	p->value = pp_realloc(p->value, sizeof(int64_t) * p->count);
	p->capacity = p->count;
}

/*
 * A plain value's point: its nodes that have a value or are leaves (a leaf
 * whose values cancelled keeps its node), and the root when it has a value.
 */
static void
add_plain_point(ProfilePacker *packer, const ProfileView *view, const uint32_t *map,
				int64_t time)
{
	PackPoint  *p = new_point(packer, time, &view->meta, view->node_count + 1);

	if (view->root_self != 0)
		add_entry(p, map[0], view->root_self);
	for (uint32_t i = 0; i < view->node_count; i++)
	{
		bool		leaf = i + 1 == view->node_count ||
			view->node_depth[i + 1] <= view->node_depth[i];

		if (view->node_self[i] != 0 || leaf)
			add_entry(p, map[i + 1], view->node_self[i]);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	shrink_point(p);
}

/* Add a stored value (see profile_pack.h). */
void
profile_packer_add_stored(ProfilePacker *packer, const uint8_t *data, size_t len,
						  const ProfileLimits *limits, bool has_time, int64_t time)
{
	ProfileMerger *m = &packer->merger;
	ProfileView view;
	uint32_t   *map;

	profile_decode(data, len, limits, &view);
	map = pp_alloc_array((size_t) view.node_count + 1, sizeof(uint32_t));
	profile_view_add_to_tree(&view, m->tree, map);
	profile_meta_merge(&m->tree->meta, &view.meta, m->empty, "pack");
	m->empty = false;
	if (view.timeline)
	{
		Timeline	tl;

		timeline_decode(&view, limits, &tl);
		timeline_check_body(&view, &tl);
		for (uint32_t i = 0; i < tl.points; i++)
		{
			uint32_t	from = tl.first_entry[i],
						to = tl.first_entry[i + 1];
			PackPoint  *p = new_point(packer, tl.time[i], &tl.meta[i], to - from);

			for (uint32_t e = from; e < to; e++)
				add_entry(p, map[tl.node[e]], tl.value[e]);
			PP_CHECK_INTERRUPTS_EVERY(i);
		}
		timeline_free(&tl);
	}
	else
		add_plain_point(packer, &view, map, has_time ? time : view.meta.start_ns);
	pp_free(map);
	profile_view_free(&view);
}

/* Add another packing (see profile_pack.h). */
void
profile_packer_add_packer(ProfilePacker *packer, const ProfilePacker *other)
{
	const CallTree *src = other->merger.tree;
	uint32_t   *map;

	if (other->merger.empty)
		return;
	map = pp_alloc_array(src->count, sizeof(uint32_t));
	profile_meta_merge(&packer->merger.tree->meta, &src->meta, packer->merger.empty, "pack");
	profile_merge_tree(packer->merger.tree, src, NULL, map);
	packer->merger.empty = false;
	for (uint32_t i = 0; i < other->count; i++)
	{
		const PackPoint *o = &other->points[i];
		PackPoint  *p = new_point(packer, o->time, &o->meta, o->count);

		for (uint32_t e = 0; e < o->count; e++)
			add_entry(p, map[o->node[e]], o->value[e]);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	pp_free(map);
}

/* qsort comparator: points by time, then arrival (for a stable order). */
static int
compare_points(const void *a, const void *b)
{
	const PackPoint *x = *(const PackPoint *const *) a;
	const PackPoint *y = *(const PackPoint *const *) b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x > y) - (x < y);
}

/* Encode the packing (see profile_pack.h). */
uint8_t *
profile_packer_encode(const ProfilePacker *packer, const ProfileLimits *limits, size_t *out_len)
{
	const PackPoint **sorted = pp_alloc_array(packer->count ? packer->count : 1, sizeof(PackPoint *));
	Timeline	tl;
	size_t		entries = 0;
	uint8_t    *bytes;

	if (packer->count == 0)
		pp_error(PP_ERR_INTERNAL, "nothing to pack");
	for (uint32_t i = 0; i < packer->count; i++)
	{
		sorted[i] = &packer->points[i];
		entries += packer->points[i].count;
	}
	if (entries >= UINT32_MAX)
		pp_error(PP_ERR_LIMIT, "too many timeline entries in one packed value");
	qsort(sorted, packer->count, sizeof(PackPoint *), compare_points);

	/* one timeline point per distinct time, its entries the sources' together */
	memset(&tl, 0, sizeof(tl));
	tl.time = pp_alloc_array(packer->count, sizeof(int64_t));
	tl.meta = pp_alloc0(pp_mul_size(packer->count, sizeof(ProfileMeta)));
	tl.first_entry = pp_alloc_array((size_t) packer->count + 1, sizeof(uint32_t));
	tl.node = pp_alloc_array(entries ? entries : 1, sizeof(uint32_t));
	tl.value = pp_alloc_array(entries ? entries : 1, sizeof(int64_t));
	for (uint32_t i = 0; i < packer->count; i++)
	{
		const PackPoint *p = sorted[i];

		if (tl.points == 0 || tl.time[tl.points - 1] != p->time)
		{
			tl.time[tl.points] = p->time;
			tl.meta[tl.points] = p->meta;
			tl.first_entry[tl.points] = tl.entries;
			tl.points++;
		}
		else
			profile_meta_merge_numbers(&tl.meta[tl.points - 1], &p->meta);
		memcpy(tl.node + tl.entries, p->node, sizeof(uint32_t) * p->count);
		memcpy(tl.value + tl.entries, p->value, sizeof(int64_t) * p->count);
		tl.entries += p->count;
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	tl.first_entry[tl.points] = tl.entries;
	bytes = profile_encode_packed(packer->merger.tree, &tl, limits, out_len);
	pp_free(sorted);
	pp_free(tl.time);
	pp_free(tl.meta);
	pp_free(tl.first_entry);
	pp_free(tl.node);
	pp_free(tl.value);
	return bytes;
}
