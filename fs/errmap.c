/* errmap.c: placeholder until the module lands */
int azsf_errmap_placeholder_(void);
int azsf_errmap_placeholder_(void)
{
	return 0;
}
