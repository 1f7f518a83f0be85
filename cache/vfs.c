/* placeholder */
int azsf_cache_placeholder_(void);
int azsf_cache_placeholder_(void)
{
	return 0;
}
