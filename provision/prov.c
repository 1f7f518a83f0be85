/* placeholder */
int azsf_prov_placeholder_(void);
int azsf_prov_placeholder_(void)
{
	return 0;
}
