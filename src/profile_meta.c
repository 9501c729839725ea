/*
 * profile_meta.c
 *	  Profile metadata: the empty value and the rules for merging it, which
 *	  are pprof's (google/pprof profile/merge.go).
 */
#include "profile_meta.h"

/* Fill in empty metadata. */
void
profile_meta_init(ProfileMeta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->sample_type = pp_strndup("", 0);
	meta->sample_unit = meta->sample_type;
	meta->period_type = meta->sample_type;
	meta->period_unit = meta->sample_type;
}

/* A copy of a NUL-terminated string. */
static char *
copy_string(const char *s)
{
	return pp_strndup(s, strlen(s));
}

/* Fold from's metadata into into's (see profile_meta.h). */
void
profile_meta_merge(ProfileMeta *into, const ProfileMeta *from, bool into_empty,
				   const char *operation)
{
	if (into_empty)
	{
		*into = *from;
		into->sample_type = copy_string(from->sample_type);
		into->sample_unit = copy_string(from->sample_unit);
		into->period_type = copy_string(from->period_type);
		into->period_unit = copy_string(from->period_unit);
		return;
	}
	if (strcmp(into->sample_type, from->sample_type) != 0 ||
		strcmp(into->sample_unit, from->sample_unit) != 0)
		pp_error_ext(PP_ERR_MISMATCH, NULL, "Use profiles of one sample type and unit.",
					 "cannot %s profiles of sample type %s/%s and %s/%s", operation,
					 into->sample_type, into->sample_unit, from->sample_type, from->sample_unit);
	profile_meta_merge_numbers(into, from);
	if (into->period_type[0] == '\0' && from->period_type[0] != '\0')
	{
		into->period_type = copy_string(from->period_type);
		into->period_unit = copy_string(from->period_unit);
	}
}

/* Fold from's numbers into into's (see profile_meta.h). */
void
profile_meta_merge_numbers(ProfileMeta *into, const ProfileMeta *from)
{
	if (from->start_ns != 0 && (into->start_ns == 0 || from->start_ns < into->start_ns))
		into->start_ns = from->start_ns;
	if (from->end_ns > into->end_ns)
		into->end_ns = from->end_ns;
	into->duration_ns = pp_add_int64(into->duration_ns, from->duration_ns);
	into->profile_count = pp_add_int64(into->profile_count, from->profile_count);
	if (from->period > into->period)
		into->period = from->period;
}
