/* client.c: placeholder until the module lands */
int azsf_client_placeholder_(void);
int azsf_client_placeholder_(void)
{
	return 0;
}
