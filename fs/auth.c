/* auth.c: placeholder until the module lands */
int azsf_auth_placeholder_(void);
int azsf_auth_placeholder_(void)
{
	return 0;
}
