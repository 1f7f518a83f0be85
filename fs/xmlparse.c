/* xmlparse.c: placeholder until the module lands */
int azsf_xmlparse_placeholder_(void);
int azsf_xmlparse_placeholder_(void)
{
	return 0;
}
